//! Version and build information (`-v`, `-vv`), and the feature list that `feature()`
//! conditions test.
//!
//! Owns the claims the binary makes about itself: only features that really exist in this
//! build are marked `+`, since test drivers gate scenarios on them.

/// The version reported everywhere. Its numeric part is the upstream release whose behaviour
/// haproxy-rs follows (Debian's 2.6.12), so `version_atleast()`/`version_before()` conditions
/// answer as they do there.
pub const VERSION: &str = "2.6.12-rs";

/// Release date printed by `-v`.
pub const DATE: &str = "2026/11/21";

/// The feature list, HAProxy's `build_features`: `+NAME` present, `-NAME` absent.
pub const FEATURES: &str = "+EPOLL -KQUEUE -EVPORTS -POLL +ACCEPT4 +GETADDRINFO +THREAD \
-OPENSSL -LUA -PCRE -PCRE2 -ZLIB -SLZ -QUIC -PROMEX +SYSTEMD -LINUX_SPLICE -TFO -NS -TPROXY";

/// The most threads this build runs (`MAX_THREADS`; `hrs_core::MAX_THREADS`, checked equal
/// by a test of the binary: this file is also compiled into a test of `hrs-cfg`).
pub const MAX_THREADS: usize = 64;

/// The CPUs this process may run on, between 1 and [`MAX_THREADS`]: the default `nbthread`
/// (upstream's `thread_cpus_enabled_at_boot`).
pub fn default_nbthread() -> usize {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size.
    let n = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            libc::CPU_COUNT(&set) as usize
        } else {
            1
        }
    };
    n.clamp(1, MAX_THREADS)
}

fn uname() -> String {
    // SAFETY: `utsname` is plain old data; uname() fills it and we read NUL-terminated fields.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return String::new();
        }
        let f = |s: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(s.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!(
            "{} {} {} {}",
            f(&u.sysname),
            f(&u.release),
            f(&u.version),
            f(&u.machine)
        )
    }
}

/// The `-v` text.
pub fn version_text() -> String {
    format!(
        "HAProxy version {VERSION} {DATE} - haproxy-rs\n\
         Status: haproxy-rs, HAProxy's HTTP proxy core rewritten in Rust.\n\
         Running on: {}\n",
        uname()
    )
}

/// The "Available multiplexer protocols" block of `-vv` (`list_mux_proto()`): one line per
/// mux of `hrs_cfg::model::MUX_PROTOS`, in upstream's format.
pub fn mux_protos_text() -> String {
    let mut s = String::from(
        "Available multiplexer protocols :\n\
         (protocols marked as <default> cannot be specified using 'proto' keyword)\n",
    );
    for m in hrs_cfg::model::MUX_PROTOS {
        let token = if m.token.is_empty() {
            "<default>"
        } else {
            m.token
        };
        s.push_str(&format!(
            " {token:>10} : mode={:<5} side={:<6} mux={:<5} flags={}\n",
            m.mode, m.side, m.mux, m.flags
        ));
    }
    s
}

/// The `-vv` text: version, build options, features, defaults, pollers, muxes, services.
pub fn build_options_text() -> String {
    let mut s = version_text();
    s.push_str(&format!(
        "Build options :\n  TARGET  = linux-glibc\n  CPU     = generic\n  CC      = rustc\n  \
         CFLAGS  = \n  OPTIONS = \n  DEBUG   = {}\n\n",
        if cfg!(debug_assertions) {
            "-DDEBUG_STRICT"
        } else {
            ""
        }
    ));
    s.push_str(&format!("Feature list : {FEATURES}\n\n"));
    s.push_str(&format!(
        "Default settings :\n  bufsize = {}, maxrewrite = {}, maxpollevents = 200\n\n",
        hrs_cfg::model::DEFAULT_BUFSIZE,
        hrs_cfg::model::DEFAULT_MAXREWRITE
    ));
    s.push_str(&format!(
        "Built with multi-threading support (MAX_THREADS={}, default={}).\n\n",
        MAX_THREADS,
        default_nbthread()
    ));
    s.push_str(
        "Available polling systems :\n      epoll : pref=300,  test result OK\n\
         Total: 1 (1 usable), will use epoll.\n\n",
    );
    s.push_str(&mux_protos_text());
    s.push('\n');
    s.push_str("Available services : none\n\nAvailable filters : none\n\n");
    s
}
