//! The typed configuration: what the binary builds its proxies, listeners and servers from.
//!
//! Owns plain data only (no sockets, no runtime state). Field names follow HAProxy's
//! structures (`struct global`, `struct proxy`, `struct bind_conf`, `struct server`) so both
//! code bases read alike. Defaults match HAProxy 2.6's.

use crate::diag::Loc;
use std::net::SocketAddr;

/// `tune.bufsize` default (`BUFSIZE`).
pub const DEFAULT_BUFSIZE: usize = 16384;
/// `tune.maxrewrite` default (`MAXREWRITE`).
pub const DEFAULT_MAXREWRITE: usize = 1024;
/// `max-session-srv-conns` default (`MAX_SRV_LIST`).
pub const DEFAULT_MAX_SESSION_SRV_CONNS: u32 = 5;

/// A whole configuration after parsing and checks.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub global: Global,
    /// Frontends, backends and listens, in declaration order (defaults excluded).
    pub proxies: Vec<Proxy>,
}

impl Config {
    /// The proxy named `name` that has capability `cap`, if any.
    pub fn find_proxy(&self, name: &str, cap: Cap) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.cap.contains(cap))
    }
}

/// Where a `log` line sends messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// UDP syslog to an address.
    Udp(SocketAddr),
    /// `stdout` / `stderr` (`format raw` or not).
    Stdout,
    Stderr,
}

/// Format of a log line's header (`log ... format <fmt>`, upstream's `LOG_FORMAT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `local` and the default: RFC 3164 without the host name field.
    #[default]
    Local,
    /// `rfc3164`: with the host name field (`localhost` when none is configured).
    Rfc3164,
    /// `rfc5424`.
    Rfc5424,
    /// `priority`: `<facility*8+level>` only.
    Priority,
    /// `short`: `<level>` only.
    Short,
    /// `timed`: `<level>` and an ISO 8601 date.
    Timed,
    /// `iso`: an ISO 8601 date only.
    Iso,
    /// `raw`: no header.
    Raw,
}

/// One `log` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSpec {
    pub target: LogTarget,
    pub format: LogFormat,
    /// Maximum line length (`len`), 1024 by default.
    pub maxlen: usize,
    /// Syslog facility number (local0 = 16).
    pub facility: u8,
    /// Maximum level sent (0..=7), 7 by default.
    pub level: u8,
    /// Minimum level: messages less severe than... (0..=7), 0 by default.
    pub minlevel: u8,
}

/// Where a listening socket comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// An address to bind ourselves.
    Inet(SocketAddr),
    /// A socket inherited from the parent, already bound and listening (`fd@N`).
    Fd(i32),
    /// A UNIX socket path (stats sockets).
    Unix(String),
}

/// `stats socket` in `global`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsSocket {
    pub addr: ListenAddr,
    /// `level user|operator|admin`.
    pub level: CliLevel,
    /// `mode` (octal), for UNIX sockets.
    pub mode: Option<u32>,
    pub loc: Loc,
}

/// Privilege level of a CLI socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CliLevel {
    User,
    #[default]
    Operator,
    Admin,
}

/// The HTTP/2 settings we advertise (`tune.h2.*`, upstream's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TuneH2 {
    pub header_table_size: u32,
    pub initial_window_size: u32,
    pub max_concurrent_streams: u32,
    pub max_frame_size: u32,
}

impl Default for TuneH2 {
    fn default() -> Self {
        TuneH2 {
            header_table_size: 4096,
            initial_window_size: 65535,
            max_concurrent_streams: 100,
            max_frame_size: 16384,
        }
    }
}

/// The `global` section (`struct global`).
#[derive(Clone, Debug)]
pub struct Global {
    pub maxconn: Option<u32>,
    pub nbthread: Option<u32>,
    pub stats_sockets: Vec<StatsSocket>,
    /// Where upstream's hidden `GLOBAL` stats frontend stands among the proxies: the number
    /// of proxies declared before the first `stats socket|timeout|maxconn` line, which
    /// creates it (`cli_alloc_fe()`). It takes no id but shifts the automatic ids of the
    /// proxies after it. `None` when there is no such line.
    pub cli_fe_at: Option<usize>,
    pub logs: Vec<LogSpec>,
    pub pidfile: Option<String>,
    pub daemon: bool,
    pub master_worker: bool,
    /// `zero-warning`: a warning makes the configuration fail.
    pub zero_warning: bool,
    pub tune_bufsize: usize,
    pub tune_maxrewrite: Option<usize>,
    /// `tune.http.maxhdr` (101 by default).
    pub tune_maxhdr: usize,
    pub tune_idle_pool_shared: bool,
    /// `tune.listener.multi-queue` (default on): accepted connections go to the least
    /// loaded thread.
    pub tune_listener_multi_queue: bool,
    /// `tune.h2.*`.
    pub tune_h2: TuneH2,
    pub tune_pool_low_fd_ratio: u32,
    pub tune_pool_high_fd_ratio: u32,
    /// `thread-groups`: only 1 is accepted (upstream's builds have `MAX_TGROUPS` 1), so it
    /// changes nothing; `None` when not given.
    pub thread_groups: Option<u32>,
    /// `cpu-map` lines, in configuration order (a later line overrides an earlier one for
    /// the threads they share, as upstream applies them).
    pub cpu_map: Vec<CpuMap>,
}

/// One `cpu-map [auto:]<proc>[/<thread-set>] <cpu-set>...` line, as read: the sets only,
/// which thread gets which CPU is decided when the threads start.
///
/// Upstream (`cfg_parse_global()`, 2.6) applies it this way: with no thread part or a
/// thread part of exactly thread 1 (`threads` `None` or `Some(1)`), the CPUs are the whole
/// process's (`cpu_map.proc`, every thread is restricted to them); otherwise each thread of
/// `threads` gets the CPUs (`cpu_map.thread[t]`; threads beyond `nbthread` are ignored).
/// With `auto`, the CPUs are handed out one by one in increasing order: to the process
/// (only the lowest CPU) or to the threads in increasing order. `procs` is only checked
/// (process numbers are accepted from 1 to 64 but only process 1 exists; upstream applies
/// the line whatever the process).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuMap {
    /// `auto:` was given.
    pub auto: bool,
    /// Bit `p-1` for process `p` (`all` is every bit, `odd` bits 0, 2..., `even` 1, 3...).
    pub procs: u64,
    /// Bit `t-1` for thread `t`; `None` when there is no `/<thread-set>` part.
    pub threads: Option<u64>,
    /// The CPUs, numbers 0 to [`CpuSet::SIZE`]` - 1` (glibc's `CPU_SETSIZE`).
    pub cpus: CpuSet,
    pub loc: Loc,
}

/// A set of CPU numbers below [`CpuSet::SIZE`] (upstream's `struct hap_cpuset` over a
/// `cpu_set_t`), bit `c % 64` of word `c / 64` for CPU `c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuSet(pub [u64; 16]);

impl CpuSet {
    /// Number of CPUs a set can name (`ha_cpuset_size()` on Linux).
    pub const SIZE: usize = 1024;

    /// Adds CPU `c`; `c` must be below [`CpuSet::SIZE`] (larger numbers are ignored).
    pub fn set(&mut self, c: usize) {
        if c < Self::SIZE {
            self.0[c / 64] |= 1 << (c % 64);
        }
    }

    /// Whether CPU `c` is in the set.
    pub fn contains(&self, c: usize) -> bool {
        c < Self::SIZE && self.0[c / 64] & (1 << (c % 64)) != 0
    }

    /// Number of CPUs in the set (`ha_cpuset_count()`).
    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The CPUs in increasing order (upstream's `ha_cpuset_ffs()` order, as `auto:` hands
    /// them out).
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..Self::SIZE).filter(move |&c| self.contains(c))
    }
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: None,
            nbthread: None,
            stats_sockets: Vec::new(),
            cli_fe_at: None,
            logs: Vec::new(),
            pidfile: None,
            daemon: false,
            master_worker: false,
            zero_warning: false,
            tune_bufsize: DEFAULT_BUFSIZE,
            tune_maxrewrite: None,
            tune_maxhdr: 101,
            tune_idle_pool_shared: true,
            tune_listener_multi_queue: true,
            tune_h2: TuneH2::default(),
            tune_pool_low_fd_ratio: 20,
            tune_pool_high_fd_ratio: 25,
            thread_groups: None,
            cpu_map: Vec::new(),
        }
    }
}

impl Global {
    /// `tune.maxrewrite` in force: the configured value, else `MAXREWRITE`, capped at half of
    /// the buffer size, as HAProxy computes it (`init()`).
    pub fn maxrewrite(&self) -> usize {
        self.tune_maxrewrite
            .unwrap_or(DEFAULT_MAXREWRITE)
            .min(self.tune_bufsize / 2)
    }
}

/// Proxy capabilities (`PR_CAP_FE`, `PR_CAP_BE`, `PR_CAP_DEF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cap(u8);

impl Cap {
    /// No capability: a keyword valid in any proxy.
    pub const NONE: Cap = Cap(0);
    pub const FE: Cap = Cap(1);
    pub const BE: Cap = Cap(2);
    pub const LISTEN: Cap = Cap(3);
    /// A `defaults` section (bit 4), with both sides.
    pub const DEF: Cap = Cap(7);

    /// True when every capability of `other` is present.
    pub fn contains(self, other: Cap) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when at least one capability of `other` is present.
    pub fn intersects(self, other: Cap) -> bool {
        self.0 & other.0 != 0
    }

    /// The capabilities of bits `b` (1 frontend, 2 backend, 4 defaults).
    pub fn from_bits(b: u8) -> Cap {
        Cap(b & 7)
    }

    /// True for a `defaults` section.
    pub fn is_defaults(self) -> bool {
        self.0 & 4 != 0
    }

    /// HAProxy's `proxy_cap_str()` (what `proxy_type_str()` prints): `defaults`, `frontend`,
    /// `backend`, or `proxy` for a `listen` section.
    pub fn type_str(self) -> &'static str {
        match self.0 {
            1 => "frontend",
            2 => "backend",
            3 => "proxy",
            _ => "defaults",
        }
    }

    /// The section keyword for messages (`frontend`, `backend`, `listen`, `defaults`).
    pub fn section_name(self) -> &'static str {
        match self.0 {
            1 => "frontend",
            2 => "backend",
            3 => "listen",
            _ => "defaults",
        }
    }
}

/// `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

/// `balance` algorithms.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
}

/// `http-reuse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpReuse {
    Never,
    #[default]
    Safe,
    Aggressive,
    Always,
}

/// HTTP connection mode selected by `option http-keep-alive|http-server-close|httpclose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// `timeout` values in milliseconds; `None` is unset (eternity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<u32>,
    pub client: Option<u32>,
    pub server: Option<u32>,
    pub http_request: Option<u32>,
    pub http_keep_alive: Option<u32>,
    pub queue: Option<u32>,
    pub tunnel: Option<u32>,
    pub client_fin: Option<u32>,
    pub server_fin: Option<u32>,
    pub check: Option<u32>,
    pub tarpit: Option<u32>,
}

/// `retry-on` keywords as a bit set (HAProxy's `PR_RE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryOn(pub u32);

impl RetryOn {
    /// Bit 0 (`PR_RE_CONN_FAILED`).
    pub const CONN_FAILED: u32 = 1;
    pub const DISCONNECTED: u32 = 1 << 1;
    pub const TIMEOUT: u32 = 1 << 2;
    pub const EARLY_ERROR: u32 = 1 << 3;
    pub const JUNK_REQUEST: u32 = 1 << 4;
    /// `0rtt-rejected`.
    pub const RTT_REJECTED: u32 = 1 << 5;
    /// Status codes 401, 403, 404, 408, 425, 500, 501, 502, 503, 504 from bit 8 on.
    pub const STATUS_BASE: u32 = 8;
    pub const STATUSES: [u16; 10] = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504];

    /// True when every bit of `mask` is set.
    pub fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }
}

/// The boolean `option`s of a proxy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub http_conn_mode: HttpConnMode,
    pub prefer_last_server: bool,
    pub redispatch: bool,
    pub httplog: bool,
    /// `option httplog clf` (with `httplog`): the format upstream names `clf_http_log_format`.
    pub httplog_clf: bool,
    pub tcplog: bool,
    pub forwardfor: bool,
    /// `option originalto`: its arguments are [`Proxy::orgto`].
    pub originalto: bool,
    pub http_buffer_request: bool,
    pub abortonclose: bool,
    pub dontlognull: bool,
}

/// A multiplexer protocol haproxy-rs has, as upstream describes it (`struct
/// mux_proto_list`): what `-vv` lists under "Available multiplexer protocols" and what the
/// `proto` keyword of `bind` and `server` accepts (the entries with a token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuxProto {
    /// The `proto` token; empty for the mux chosen by default for a mode (`<default>`).
    pub token: &'static str,
    /// `HTTP` or `TCP`.
    pub mode: &'static str,
    /// `FE|BE`, `FE` or `BE`.
    pub side: &'static str,
    /// The mux's name (`H1`, `H2`, `PASS`).
    pub mux: &'static str,
    /// Its flags as `-vv` prints them (`HTX|HOL_RISK|NO_UPG`).
    pub flags: &'static str,
}

/// The muxes of haproxy-rs in upstream's registration order. Upstream 2.6 also has `fcgi`
/// (no FastCGI here) and `none` (pass-through chosen explicitly, which `proto` does not
/// accept here). The default H1 mux upgrades to HTTP/2 on the client preface; `proto h1`
/// names the same mux without that upgrade (`NO_UPG`: the preface gets a 400).
pub const MUX_PROTOS: &[MuxProto] = &[
    MuxProto {
        token: "h2",
        mode: "HTTP",
        side: "FE|BE",
        mux: "H2",
        flags: "HTX|HOL_RISK|NO_UPG",
    },
    MuxProto {
        token: "",
        mode: "HTTP",
        side: "FE|BE",
        mux: "H1",
        flags: "HTX",
    },
    MuxProto {
        token: "h1",
        mode: "HTTP",
        side: "FE|BE",
        mux: "H1",
        flags: "HTX|NO_UPG",
    },
    MuxProto {
        token: "",
        mode: "TCP",
        side: "FE|BE",
        mux: "PASS",
        flags: "",
    },
];

/// The mux named `token` by a `proto` keyword, if haproxy-rs has it.
pub fn find_mux_proto(token: &str) -> Option<&'static MuxProto> {
    MUX_PROTOS
        .iter()
        .find(|m| !m.token.is_empty() && m.token == token)
}

/// One `bind` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub addr: ListenAddr,
    /// The address as written (upstream names the line by it).
    pub arg: String,
    /// `name`.
    pub name: Option<String>,
    /// `proto`: the mux accepted connections start with.
    pub proto: BindProto,
    /// `thread <set>` and `process 1/<set>`, merged (upstream's `bind_thread`): bit `t-1`
    /// for thread `t`, threads beyond `nbthread` included as written (`thread all` is every
    /// bit). `None` when neither restricts the threads (`process 1`, `process all`): every
    /// thread. The threads that serve the line are `threads & nbits(nbthread)`, never empty
    /// once [`crate::check::check_bind_threads`] accepted the line.
    pub threads: Option<u64>,
    /// The thread group of `thread <g>/<set>` (only 1 is accepted), 0 when none was given;
    /// it changes the message of [`crate::check::check_bind_threads`] only.
    pub thread_group: u32,
    pub loc: Loc,
}

/// The mux of a `bind` line's connections (`proto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BindProto {
    /// No `proto`: HTTP/1, upgraded to HTTP/2 when the client starts with the preface.
    #[default]
    Default,
    /// `proto h1`: HTTP/1 only (`NO_UPG`).
    H1,
    /// `proto h2`: HTTP/2 from the first byte.
    H2,
}

/// One `server` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    /// True when the address had no port (the client's destination port is used).
    pub port_unset: bool,
    pub weight: u32,
    pub maxconn: u32,
    pub check: bool,
    pub disabled: bool,
    pub backup: bool,
    pub proto_h2: bool,
    /// The `proto` token given, if any (checked against the proxy's mode after parsing).
    pub proto: Option<&'static str>,
    /// `pool-max-conn`, -1 = unlimited (default).
    pub pool_max_conn: i32,
    pub pool_low_conn: u32,
    /// `pool-purge-delay` in ms (default 5 s).
    pub pool_purge_delay: u32,
    /// `max-reuse`, -1 = unlimited.
    pub max_reuse: i32,
    /// A host name that did not resolve; reported by the post-parse checks, as upstream
    /// resolves server addresses after parsing.
    pub unresolved: Option<String>,
    pub loc: Loc,
}

/// A rule condition as written: `if`/`unless` plus its words (compiled by the http crate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondSpec {
    pub unless: bool,
    pub words: Vec<String>,
}

/// `use_backend <name> [if|unless <cond>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchRule {
    pub backend: String,
    pub cond: Option<CondSpec>,
    pub loc: Loc,
}

/// `acl <name> <criterion> [flags] [patterns]`, kept as words until compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclSpec {
    pub name: String,
    pub words: Vec<String>,
    pub loc: Loc,
}

/// One `http-request`/`http-response`/`http-after-response` rule: the action, its argument
/// words, and the optional condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRuleSpec {
    pub action: String,
    pub args: Vec<String>,
    pub cond: Option<CondSpec>,
    pub loc: Loc,
}

/// Arguments of `option forwardfor`, and of `option originalto` (which has no `if-none`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardFor {
    /// `except <network>`: clients (for `originalto`, destinations) in this network get no
    /// header (compared with [`crate::net::Net::contains`], upstream's `ipcmp2net()`).
    pub except: Option<crate::net::Net>,
    /// `header <name>` (lower-cased); `x-forwarded-for` (`x-original-to`) when unset.
    pub header: Option<String>,
    /// `if-none`: only add the header when the request has none.
    pub if_none: bool,
}

/// A frontend, backend, listen or defaults section (`struct proxy`).
#[derive(Clone, Debug, Default)]
pub struct Proxy {
    pub name: String,
    pub cap: Cap,
    pub loc: Option<Loc>,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    pub servers: Vec<Server>,
    pub default_backend: Option<(String, Loc)>,
    pub switching_rules: Vec<SwitchRule>,
    pub dispatch: Option<SocketAddr>,
    pub balance: Balance,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub retry_on: RetryOn,
    pub options: Options,
    /// Arguments of `option forwardfor` (meaningful when `options.forwardfor`).
    pub fwdfor: ForwardFor,
    /// Arguments of `option originalto` (meaningful when `options.originalto`).
    pub orgto: ForwardFor,
    pub http_reuse: HttpReuse,
    /// `max-keep-alive-queue`, -1 = unset.
    pub max_ka_queue: i32,
    pub max_session_srv_conns: u32,
    /// Frontend `maxconn`; 0 = global default.
    pub maxconn: u32,
    /// `log global` was given.
    pub log_global: bool,
    pub logs: Vec<LogSpec>,
    pub log_format: Option<String>,
    /// Where `log_format` was set (its errors cite that line).
    pub log_format_loc: Option<Loc>,
    pub acls: Vec<AclSpec>,
    pub http_req_rules: Vec<HttpRuleSpec>,
    pub http_res_rules: Vec<HttpRuleSpec>,
    pub http_after_res_rules: Vec<HttpRuleSpec>,
    /// `disabled`: the proxy is parsed but never started.
    pub disabled: bool,
    /// `id <n>`: the proxy's explicit id (> 0); `None` for an automatic one.
    pub id: Option<u32>,
    /// The proxy's id (`uuid`) as the post-parse checks assign it
    /// ([`crate::check::assign_proxy_uuids`]): `id` when given, else the next free one in
    /// configuration order. 0 until then.
    pub uuid: u32,
}

impl Proxy {
    /// A fresh proxy with HAProxy's built-in defaults (`init_new_proxy` +
    /// `proxy_preset_defaults`).
    pub fn preset(name: &str, cap: Cap) -> Proxy {
        Proxy {
            name: name.to_string(),
            cap,
            retries: 3,
            // `retry-on conn-failure` is the default
            retry_on: RetryOn(RetryOn::CONN_FAILED),
            max_ka_queue: -1,
            max_session_srv_conns: DEFAULT_MAX_SESSION_SRV_CONNS,
            ..Default::default()
        }
    }

    /// A new proxy inheriting every setting of the defaults section `def`
    /// (HAProxy copies the defaults proxy into each new proxy at creation).
    pub fn from_defaults(name: &str, cap: Cap, def: &Proxy) -> Proxy {
        let mut p = def.clone();
        p.name = name.to_string();
        p.cap = cap;
        p.loc = None;
        p.id = None;
        p.binds.clear();
        p.servers.clear();
        p.switching_rules.clear();
        p.acls.clear();
        p.http_req_rules.clear();
        p.http_res_rules.clear();
        p.http_after_res_rules.clear();
        if !cap.contains(Cap::FE) {
            // upstream copies these from the defaults to frontends only
            p.default_backend = None;
            p.log_format = None;
            p.log_format_loc = None;
            p.options.httplog = false;
            p.options.httplog_clf = false;
            p.options.tcplog = false;
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `init()`: `tune.maxrewrite`, configured or `MAXREWRITE`, is capped at half a buffer.
    #[test]
    fn maxrewrite_as_upstream() {
        let g = |bufsize: usize, maxrewrite: Option<usize>| Global {
            tune_bufsize: bufsize,
            tune_maxrewrite: maxrewrite,
            ..Global::default()
        };
        assert_eq!(g(DEFAULT_BUFSIZE, None).maxrewrite(), DEFAULT_MAXREWRITE);
        assert_eq!(g(1024, None).maxrewrite(), 512);
        assert_eq!(g(DEFAULT_BUFSIZE, Some(100)).maxrewrite(), 100);
        assert_eq!(g(DEFAULT_BUFSIZE, Some(10000)).maxrewrite(), 8192);
    }

    #[test]
    fn capabilities_and_names() {
        let names = |c: Cap| (c.type_str(), c.section_name());
        assert_eq!(names(Cap::FE), ("frontend", "frontend"));
        assert_eq!(names(Cap::BE), ("backend", "backend"));
        assert_eq!(names(Cap::LISTEN), ("proxy", "listen"));
        assert_eq!(names(Cap::DEF), ("defaults", "defaults"));
        assert!(Cap::DEF.is_defaults() && !Cap::LISTEN.is_defaults());
        assert!(Cap::DEF.contains(Cap::LISTEN) && Cap::LISTEN.contains(Cap::FE));
        assert!(!Cap::FE.contains(Cap::BE) && !Cap::FE.intersects(Cap::BE));
        assert!(Cap::LISTEN.intersects(Cap::BE) && Cap::FE.contains(Cap::NONE));
        assert_eq!(Cap::from_bits(0xff), Cap::DEF);
    }

    /// Every `retry-on` keyword has a bit of its own; `has` wants all the bits asked.
    #[test]
    fn retry_on_bits() {
        let mut bits = vec![
            RetryOn::CONN_FAILED,
            RetryOn::DISCONNECTED,
            RetryOn::TIMEOUT,
            RetryOn::EARLY_ERROR,
            RetryOn::JUNK_REQUEST,
            RetryOn::RTT_REJECTED,
        ];
        bits.extend((0..RetryOn::STATUSES.len() as u32).map(|i| 1 << (RetryOn::STATUS_BASE + i)));
        let all = bits.iter().fold(0, |acc, b| {
            assert!(
                b.count_ones() == 1 && acc & b == 0,
                "{b:#x} is not a bit of its own"
            );
            acc | b
        });
        let r = RetryOn(RetryOn::CONN_FAILED | RetryOn::TIMEOUT);
        assert!(r.has(RetryOn::CONN_FAILED) && r.has(RetryOn::CONN_FAILED | RetryOn::TIMEOUT));
        assert!(!r.has(RetryOn::DISCONNECTED) && !r.has(RetryOn::TIMEOUT | RetryOn::DISCONNECTED));
        assert!(RetryOn(all).has(all) && !RetryOn(0).has(RetryOn::RTT_REJECTED));
    }

    /// `init_new_proxy()` and `proxy_preset_defaults()`: 3 retries on connection failures,
    /// no keep-alive queue limit, 5 server connections kept per session.
    #[test]
    fn proxy_presets_as_upstream() {
        let p = Proxy::preset("p", Cap::BE);
        assert_eq!((p.name.as_str(), p.cap), ("p", Cap::BE));
        assert_eq!((p.retries, p.retry_on), (3, RetryOn(RetryOn::CONN_FAILED)));
        assert_eq!((p.max_ka_queue, p.max_session_srv_conns), (-1, 5));
    }
}
