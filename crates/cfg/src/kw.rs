//! Upstream's keyword names where its messages list them or suggest one of them, and the
//! rule it suggests with (`make_word_fingerprint()`, `word_fingerprint_distance()` in
//! src/tools.c, used by `cfg_find_best_match()`, `proxy_find_best_option()`,
//! `action_suggest()`...).
//!
//! Owns data only: the names HAProxy 2.6.12 (Debian's build) has registered, in its
//! registration order, which decides ties and the order of the lists it prints. Whether
//! haproxy-rs implements a keyword is decided elsewhere; a keyword upstream knows and
//! haproxy-rs does not is refused with a message of its own, not as unknown.

/// `make_word_fingerprint()`: counts of the transitions between character classes (letters
/// 1..26 case-insensitively, digits 27, anything else 28, begin and end 28), plus a mark for
/// each class present.
fn fingerprint(word: &str) -> [u8; 1024] {
    let mut fp = [0u8; 1024];
    let mut from = 28usize;
    for c in word.bytes() {
        let to = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => (c - b'a' + 1) as usize,
            b'0'..=b'9' => 27,
            _ => 28,
        };
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
    fp
}

/// `word_fingerprint_distance()`.
fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> usize {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| (i32::from(x) - i32::from(y)).unsigned_abs() as usize)
        .sum()
}

/// The candidate closest to `word` (the first of equals, in order), as upstream suggests
/// keywords: `None` when even the closest is more than `tolerance` times the length of
/// `word` or of itself away. `tolerance` is 2 (3 for actions matched by prefix).
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = (&'a str, usize)>,
) -> Option<&'a str> {
    let sig = fingerprint(word);
    let mut best: Option<(&str, usize, usize)> = None;
    for (c, tolerance) in candidates {
        let d = distance(&sig, &fingerprint(c));
        if best.is_none_or(|(_, bd, _)| d < bd) {
            best = Some((c, d, tolerance));
        }
    }
    let (c, d, t) = best?;
    (d <= t * word.len() && d <= t * c.len()).then_some(c)
}

/// `cfg_find_best_match()` and its relatives: the closest of `candidates` within the usual
/// tolerance.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    best_match(word, candidates.into_iter().map(|c| (c, 2)))
}

/// An action keyword: its name and whether it matches by prefix (`KWF_MATCH_PREFIX`,
/// printed with `(*)`, e.g. `set-var(txn.x)`).
pub type ActionKw = (&'static str, bool);

/// `http-request` actions, in upstream's order.
pub const HTTP_REQ_ACTIONS: &[ActionKw] = &[
    ("wait-for-handshake", false),
    ("ot-group", false),
    ("set-log-level", false),
    ("set-nice", false),
    ("use-service", false),
    ("sc-inc-gpc", true),
    ("sc-inc-gpc0", true),
    ("sc-inc-gpc1", true),
    ("sc-set-gpt", true),
    ("sc-set-gpt0", true),
    ("send-spoe-group", false),
    ("do-resolve", true),
    ("cache-use", false),
    ("add-acl", true),
    ("add-header", false),
    ("allow", false),
    ("auth", false),
    ("capture", false),
    ("del-acl", true),
    ("del-header", false),
    ("del-map", true),
    ("deny", false),
    ("disable-l7-retry", false),
    ("early-hint", false),
    ("normalize-uri", false),
    ("redirect", false),
    ("reject", false),
    ("replace-header", false),
    ("replace-path", false),
    ("replace-pathq", false),
    ("replace-uri", false),
    ("replace-value", false),
    ("return", false),
    ("set-header", false),
    ("set-map", true),
    ("set-method", false),
    ("set-path", false),
    ("set-pathq", false),
    ("set-query", false),
    ("set-uri", false),
    ("strict-mode", false),
    ("tarpit", false),
    ("track-sc", true),
    ("set-timeout", false),
    ("wait-for-body", false),
    ("set-var-fmt", true),
    ("set-var", true),
    ("unset-var", true),
    ("set-dst", false),
    ("set-dst-port", false),
    ("set-mark", false),
    ("set-src", false),
    ("set-src-port", false),
    ("set-tos", false),
    ("silent-drop", false),
    ("set-priority-class", false),
    ("set-priority-offset", false),
];

/// `http-response` actions, in upstream's order.
pub const HTTP_RES_ACTIONS: &[ActionKw] = &[
    ("ot-group", false),
    ("set-log-level", false),
    ("set-nice", false),
    ("sc-inc-gpc", true),
    ("sc-inc-gpc0", true),
    ("sc-inc-gpc1", true),
    ("sc-set-gpt", true),
    ("sc-set-gpt0", true),
    ("send-spoe-group", false),
    ("cache-store", false),
    ("add-acl", true),
    ("add-header", false),
    ("allow", false),
    ("capture", false),
    ("del-acl", true),
    ("del-header", false),
    ("del-map", true),
    ("deny", false),
    ("redirect", false),
    ("replace-header", false),
    ("replace-value", false),
    ("return", false),
    ("set-header", false),
    ("set-map", true),
    ("set-status", false),
    ("strict-mode", false),
    ("track-sc", true),
    ("wait-for-body", false),
    ("set-var-fmt", true),
    ("set-var", true),
    ("unset-var", true),
    ("set-mark", false),
    ("set-tos", false),
    ("silent-drop", false),
];

/// `http-after-response` actions, in upstream's order.
pub const HTTP_AFTER_RES_ACTIONS: &[ActionKw] = &[
    ("ot-group", false),
    ("add-header", false),
    ("allow", false),
    ("capture", false),
    ("del-header", false),
    ("replace-header", false),
    ("replace-value", false),
    ("set-header", false),
    ("set-status", false),
    ("strict-mode", false),
    ("set-var-fmt", true),
    ("set-var", true),
    ("unset-var", true),
];

/// The actions of rule keyword `kw` (`http-request`, `http-response`,
/// `http-after-response`).
pub fn actions_of(kw: &str) -> &'static [ActionKw] {
    match kw {
        "http-request" => HTTP_REQ_ACTIONS,
        "http-response" => HTTP_RES_ACTIONS,
        _ => HTTP_AFTER_RES_ACTIONS,
    }
}

/// `action_lookup()`: the first action named `word`, or whose prefix-matching name starts
/// `word`.
pub fn find_action(actions: &'static [ActionKw], word: &str) -> Option<&'static str> {
    actions
        .iter()
        .find(|(k, prefix)| *k == word || (*prefix && word.starts_with(k)))
        .map(|(k, _)| *k)
}

/// `action_build_list()`: `'a', 'b(*)', ...`.
pub fn action_list(actions: &[ActionKw]) -> String {
    actions
        .iter()
        .map(|(k, p)| format!("'{k}{}'", if *p { "(*)" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `action_suggest()`: prefix-matching actions are allowed one more unit of distance per
/// character.
pub fn suggest_action(actions: &'static [ActionKw], word: &str) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    best_match(word, actions.iter().map(|&(k, p)| (k, 2 + usize::from(p))))
}

/// `cfg_opts[]` then `cfg_opts2[]`: the options upstream handles by table (a flag each),
/// with the capability they need (`FE`, `BE`, `FE|BE` as a [`crate::model::Cap`] value).
pub const CFG_OPTS: &[(&str, u8)] = &[
    ("abortonclose", 2),
    ("allbackups", 2),
    ("checkcache", 2),
    ("clitcpka", 1),
    ("contstats", 1),
    ("dontlognull", 1),
    ("http-buffer-request", 3),
    ("http-ignore-probes", 1),
    ("idle-close-on-response", 1),
    ("prefer-last-server", 2),
    ("logasap", 1),
    ("nolinger", 3),
    ("persist", 2),
    ("srvtcpka", 2),
    ("transparent", 2),
    ("splice-request", 3),
    ("splice-response", 3),
    ("splice-auto", 3),
    ("accept-invalid-http-request", 1),
    ("accept-invalid-http-response", 2),
    ("dontlog-normal", 1),
    ("log-separate-errors", 1),
    ("log-health-checks", 2),
    ("socket-stats", 1),
    ("tcp-smart-accept", 1),
    ("tcp-smart-connect", 2),
    ("independent-streams", 3),
    ("http-use-proxy-header", 1),
    ("http-pretend-keepalive", 2),
    ("http-no-delay", 3),
    ("h1-case-adjust-bogus-client", 1),
    ("h1-case-adjust-bogus-server", 2),
    ("disable-h2-upgrade", 1),
];

/// The other options upstream knows (parsed one by one in `cfg_parse_listen()`).
pub const OTHER_OPTIONS: &[&str] = &[
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "httpslog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "originalto",
    "http-restrict-req-hdr-names",
];

/// `common_options[]`: the extra names `proxy_find_best_option()` suggests from.
pub const COMMON_OPTIONS: &[&str] = &[
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "original-to",
];

/// `proxy_find_best_option()`.
pub fn suggest_option(word: &str) -> Option<&'static str> {
    suggest(
        word,
        CFG_OPTS
            .iter()
            .map(|(n, _)| *n)
            .chain(COMMON_OPTIONS.iter().copied()),
    )
}

/// Keywords registered for the global section (`cfg_register_keywords()`), in registration
/// (link) order.
pub const GLOBAL_KEYWORDS: &[&str] = &[
    "ca-base",
    "crt-base",
    "issuers-chain-path",
    "maxsslconn",
    "ssl-default-bind-options",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-mode-async",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "ssl-skip-self-issued-ca",
    "tune.ssl.cachesize",
    "tune.ssl.default-dh-param",
    "tune.ssl.force-private-cache",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "tune.ssl.hard-maxrecord",
    "tune.ssl.ssl-ctx-cache-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.keylog",
    "ssl-default-bind-ciphers",
    "ssl-default-server-ciphers",
    "ssl-default-bind-curves",
    "ssl-default-bind-ciphersuites",
    "ssl-default-server-ciphersuites",
    "ssl-load-extra-files",
    "ssl-load-extra-del-ext",
    "lua-prepend-path",
    "lua-load",
    "lua-load-per-thread",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.lua.service-timeout",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
    "h1-accept-payload-with-any-method",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "tune.idle-pool.shared",
    "tune.listener.multi-queue",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "default-path",
    "stats",
    "pp2-never-send-local",
    "grace",
    "hard-stop-after",
    "close-spread-time",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    "httpclient.ssl.verify",
    "httpclient.ssl.ca-file",
    "tune.listener.multi-queue",
    "set-var",
    "set-var-fmt",
    "tune.vars.global-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.vars.reqres-max-size",
    "tune.vars.check-max-size",
    "tune.sched.low-latency",
    "tune.fail-alloc",
    "no-memory-trimming",
    "mworker-max-reloads",
    "tune.fd.edge-triggered",
    "profiling.tasks",
    "nbthread",
    "thread-group",
    "thread-groups",
];

/// The global keywords `cfgparse-global.c` parses itself (its `common_kw_list[]`), suggested
/// after the registered ones.
pub const GLOBAL_COMMON: &[&str] = &[
    "global",
    "daemon",
    "master-worker",
    "noepoll",
    "nokqueue",
    "noevports",
    "nopoll",
    "busy-polling",
    "set-dumpable",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "nosplice",
    "nogetaddrinfo",
    "noreuseport",
    "quiet",
    "zero-warning",
    "tune.runqueue-depth",
    "tune.maxpollevents",
    "tune.maxaccept",
    "tune.recv_enough",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.maxrewrite",
    "tune.idletimer",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.pipesize",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.comp.maxlevel",
    "tune.pattern.cache-size",
    "uid",
    "gid",
    "external-check",
    "user",
    "group",
    "nbproc",
    "maxconn",
    "ssl-server-verify",
    "maxconnrate",
    "maxsessrate",
    "maxsslrate",
    "maxcomprate",
    "maxpipes",
    "maxzlibmem",
    "maxcompcpuusage",
    "ulimit-n",
    "chroot",
    "description",
    "node",
    "pidfile",
    "unix-bind",
    "log",
    "log-send-hostname",
    "server-state-base",
    "server-state-file",
    "log-tag",
    "spread-checks",
    "max-spread-checks",
    "cpu-map",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
    "strict-limits",
    "localpeer",
    "numa-cpu-mapping",
    "defaults",
    "listen",
    "frontend",
    "backend",
    "peers",
    "resolvers",
    "cluster-secret",
];

/// Keywords registered for proxy sections, in registration order.
pub const LISTEN_KEYWORDS: &[&str] = &[
    "http-check",
    "tcp-check",
    "timeout",
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "rate-limit",
    "max-keep-alive-queue",
    "declare",
    "retry-on",
    "clitcpka-cnt",
    "srvtcpka-cnt",
    "clitcpka-idle",
    "srvtcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-intvl",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfile",
    "errorfiles",
    "http-error",
    "tcp-request",
    "tcp-response",
    "filter",
    "use-fcgi-app",
    "compression",
    "external-check",
];

/// The proxy keywords `cfgparse-listen.c` parses itself (its `common_kw_list[]`).
pub const LISTEN_COMMON: &[&str] = &[
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "bind-process",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// `bind` keywords (SSL, CLI, listener, TCP, UNIX), in registration order, with the number
/// of arguments each takes.
pub const BIND_KEYWORDS: &[(&str, i8)] = &[
    ("allow-0rtt", 0),
    ("alpn", 1),
    ("ca-file", 1),
    ("ca-verify-file", 1),
    ("ca-ignore-err", 1),
    ("ca-sign-file", 1),
    ("ca-sign-pass", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("crl-file", 1),
    ("crt", 1),
    ("crt-ignore-err", 1),
    ("crt-list", 1),
    ("curves", 1),
    ("ecdhe", 1),
    ("force-sslv3", 0),
    ("force-tlsv10", 0),
    ("force-tlsv11", 0),
    ("force-tlsv12", 0),
    ("force-tlsv13", 0),
    ("generate-certificates", 0),
    ("no-ca-names", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("no-tls-tickets", 0),
    ("ssl", 0),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("strict-sni", 0),
    ("tls-ticket-keys", 1),
    ("verify", 1),
    ("npn", 1),
    ("prefer-client-ciphers", 0),
    ("level", 1),
    ("expose-fd", 1),
    ("severity-output", 1),
    ("accept-netscaler-cip", 1),
    ("accept-proxy", 0),
    ("backlog", 1),
    ("id", 1),
    ("maxconn", 1),
    ("name", 1),
    ("nice", 1),
    ("process", 1),
    ("proto", 1),
    ("shards", 1),
    ("thread", 1),
    ("defer-accept", 0),
    ("interface", 1),
    ("mss", 1),
    ("tcp-ut", 1),
    ("tfo", 0),
    ("transparent", 0),
    ("v4v6", 0),
    ("v6only", 0),
    ("namespace", 1),
    ("gid", 1),
    ("group", 1),
    ("mode", 1),
    ("uid", 1),
    ("user", 1),
];

/// `server` keywords (SSL, server, checks, TCP), in registration order, with the number of
/// arguments each takes (-1: the keyword reads the rest of the line its own way).
pub const SERVER_KEYWORDS: &[(&str, i8)] = &[
    ("allow-0rtt", 0),
    ("alpn", 1),
    ("ca-file", 1),
    ("check-alpn", 1),
    ("check-sni", 1),
    ("check-ssl", 0),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("crl-file", 1),
    ("crt", 1),
    ("force-sslv3", 0),
    ("force-tlsv10", 0),
    ("force-tlsv11", 0),
    ("force-tlsv12", 0),
    ("force-tlsv13", 0),
    ("no-check-ssl", 0),
    ("no-send-proxy-v2-ssl", 0),
    ("no-send-proxy-v2-ssl-cn", 0),
    ("no-ssl", 0),
    ("no-ssl-reuse", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("no-tls-tickets", 0),
    ("npn", 1),
    ("send-proxy-v2-ssl", 0),
    ("send-proxy-v2-ssl-cn", 0),
    ("sni", 1),
    ("ssl", 0),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("ssl-reuse", 0),
    ("tls-tickets", 0),
    ("verify", 1),
    ("verifyhost", 1),
    ("backup", 0),
    ("cookie", 1),
    ("disabled", 0),
    ("enabled", 0),
    ("error-limit", 1),
    ("ws", 1),
    ("id", 1),
    ("init-addr", 1),
    ("log-proto", 1),
    ("maxconn", 1),
    ("maxqueue", 1),
    ("max-reuse", 1),
    ("minconn", 1),
    ("namespace", 1),
    ("no-backup", 0),
    ("no-send-proxy", 0),
    ("no-send-proxy-v2", 0),
    ("no-tfo", 0),
    ("non-stick", 0),
    ("observe", 1),
    ("on-error", 1),
    ("on-marked-down", 1),
    ("on-marked-up", 1),
    ("pool-low-conn", 1),
    ("pool-max-conn", 1),
    ("pool-purge-delay", 1),
    ("proto", 1),
    ("proxy-v2-options", 1),
    ("redir", 1),
    ("resolve-net", 1),
    ("resolve-opts", 1),
    ("resolve-prefer", 1),
    ("resolvers", 1),
    ("send-proxy", 0),
    ("send-proxy-v2", 0),
    ("slowstart", 1),
    ("source", -1),
    ("stick", 0),
    ("tfo", 0),
    ("track", 1),
    ("socks4", 1),
    ("usesrc", 0),
    ("weight", 1),
    ("addr", 1),
    ("agent-addr", 1),
    ("agent-check", 0),
    ("agent-inter", 1),
    ("agent-port", 1),
    ("agent-send", 1),
    ("check", 0),
    ("check-proto", 1),
    ("check-send-proxy", 0),
    ("check-via-socks4", 0),
    ("no-agent-check", 0),
    ("no-check", 0),
    ("no-check-send-proxy", 0),
    ("rise", 1),
    ("fall", 1),
    ("inter", 1),
    ("fastinter", 1),
    ("downinter", 1),
    ("port", 1),
    ("tcp-ut", 1),
];

/// Values of server keywords also suggested (`extra_kw_list[]` of server.c).
pub const SERVER_EXTRA: &[&str] = &[
    "ipv4",
    "ipv6",
    "legacy",
    "octet-count",
    "fail-check",
    "sudden-death",
    "mark-down",
];

/// The proxy keywords upstream removed and names in a message of their own
/// (`cfg_parse_listen()`): the message for keyword `kw` with first argument `arg1`, and
/// whether it is written `parsing [F:N]:` (tight) rather than `parsing [F:N] :`.
pub fn legacy_listen(kw: &str, arg1: &str) -> Option<(bool, String)> {
    let d21 = |what: &str| {
        format!("The '{kw}' directive is not supported anymore since HAProxy 2.1. {what}")
    };
    Some(match kw {
        "monitor-net" => (false, format!("'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if {{ src {arg1} }}' instead.")),
        "appsession" => (false, format!("'{kw}' is not supported anymore since HAProxy 1.6.")),
        "block" => (false, d21("Use 'http-request deny' which uses the exact same syntax.")),
        "redispatch" | "redisp" => (false, format!("keyword '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.")),
        "grace" => (true, format!("the '{kw}' keyword is not supported any more since HAProxy version 2.5.")),
        "clitimeout" | "contimeout" | "srvtimeout" => {
            let t = match kw {
                "clitimeout" => "client",
                "contimeout" => "connect",
                _ => "server",
            };
            (false, format!("the '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {t}'."))
        }
        "cliexp" | "reqrep" => (false, d21("Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.")),
        "reqdel" | "reqidel" => (false, d21("Use 'http-request del-header' instead.")),
        "reqdeny" => (false, format!("The '{kw}' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.")),
        "reqpass" => (false, format!("The '{kw}' not supported anymore since HAProxy 2.1.")),
        "reqipass" => (false, format!("The '{kw}' directive is not supported anymore since HAProxy 2.1.")),
        "reqallow" | "reqiallow" => (false, d21("Use 'http-request allow' instead.")),
        "reqtarpit" | "reqitarpit" => (false, d21("Use 'http-request tarpit' instead.")),
        "reqirep" => (false, d21("Use 'http-request replace-header' instead.")),
        "reqideny" => (false, d21("Use 'http-request deny' instead.")),
        "reqadd" => (false, d21("Use 'http-request add-header' instead.")),
        "srvexp" | "rsprep" | "rspirep" => (false, d21("Use 'http-response replace-header' instead.")),
        "rspdel" => (false, d21("Use 'http-response del-header' .")),
        "rspidel" => (false, d21("Use 'http-response del-header' instead.")),
        "rspdeny" | "rspideny" => (false, d21("Use 'http-response deny' instead.")),
        "rspadd" => (false, d21("Use 'http-response add-header' instead.")),
        _ => return None,
    })
}

/// A section whose unknown keywords get a suggestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Global,
    Listen,
}

/// `cfg_find_best_match()` for an unknown keyword of `section`: the registered keywords,
/// then the ones the section parser handles itself.
pub fn suggest_keyword(word: &str, section: Section) -> Option<&'static str> {
    let (reg, common) = match section {
        Section::Global => (GLOBAL_KEYWORDS, GLOBAL_COMMON),
        Section::Listen => (LISTEN_KEYWORDS, LISTEN_COMMON),
    };
    suggest(word, reg.iter().chain(common.iter()).copied())
}

/// True when upstream knows `word` as a keyword of `section`.
pub fn is_keyword(word: &str, section: Section) -> bool {
    let (reg, common) = match section {
        Section::Global => (GLOBAL_KEYWORDS, GLOBAL_COMMON),
        Section::Listen => (LISTEN_KEYWORDS, LISTEN_COMMON),
    };
    reg.contains(&word) || common.contains(&word)
}

/// `srv_find_best_kw()`.
pub fn suggest_server_keyword(word: &str) -> Option<&'static str> {
    suggest(
        word,
        SERVER_KEYWORDS
            .iter()
            .map(|(k, _)| *k)
            .chain(SERVER_EXTRA.iter().copied()),
    )
}

/// `bind_find_best_kw()`.
pub fn suggest_bind_keyword(word: &str) -> Option<&'static str> {
    suggest(word, BIND_KEYWORDS.iter().map(|(k, _)| *k))
}

/// The number of arguments of the server keyword `word`, if upstream has it.
pub fn server_keyword_args(word: &str) -> Option<i8> {
    SERVER_KEYWORDS
        .iter()
        .find(|(k, _)| *k == word)
        .map(|(_, n)| *n)
}

/// The number of arguments of the bind keyword `word`, if upstream has it.
pub fn bind_keyword_args(word: &str) -> Option<i8> {
    BIND_KEYWORDS
        .iter()
        .find(|(k, _)| *k == word)
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_distance() {
        let d = |a: &str, b: &str| distance(&fingerprint(a), &fingerprint(b));
        assert_eq!(d("abc", "abc"), 0);
        // case does not count
        assert_eq!(d("FRONTEND", "frontend"), 0);
        // "ab" vs "abc": b->end becomes b->c, c->end, and c is present
        assert_eq!(d("ab", "abc"), 4);
    }

    /// `update_word_fingerprint()`'s layout: classes a..z 1..26, digits 27, others and the
    /// ends 28; a mark per class present, then transition counts at `32 * from + to`.
    #[test]
    fn fingerprint_layout() {
        let nonzero = |w: &str| {
            let fp = fingerprint(w);
            (0..1024)
                .filter(|&i| fp[i] != 0)
                .map(|i| (i, fp[i]))
                .collect::<Vec<_>>()
        };
        let t = |from: usize, to: usize| 32 * from + to;
        let mut want = vec![
            (1, 1),
            (2, 1),
            (27, 1),
            (28, 1),
            (t(1, 2), 1),
            (t(2, 27), 1),
            (t(27, 28), 2),
            (t(28, 1), 1),
            (t(28, 27), 1),
        ];
        want.sort();
        // begin -> A -> b -> 9 -> '-' -> 0 -> end
        assert_eq!(nonzero("Ab9-0"), want);
        // repeated transitions count; the end is one more transition
        assert_eq!(
            nonzero("zzz"),
            vec![(26, 1), (t(26, 26), 2), (t(26, 28), 1), (t(28, 26), 1)]
        );
    }

    /// Suggestions haproxy 2.6.12 makes for the same words.
    #[test]
    fn suggestions_as_upstream() {
        let req = HTTP_REQ_ACTIONS;
        assert_eq!(suggest_action(req, "set-heade"), Some("set-header"));
        assert_eq!(suggest_action(req, "sethdr"), Some("set-header"));
        assert_eq!(suggest_action(req, "del-hdr"), Some("del-header"));
        assert_eq!(suggest_action(req, "allw"), Some("allow"));
        assert_eq!(suggest_action(req, "retrun"), Some("return"));
        // prefix actions get a tolerance of 3 per character, the others 2
        assert_eq!(suggest_action(req, "setv"), Some("set-var"));
        assert_eq!(suggest_action(req, "unst"), Some("unset-var"));
        assert_eq!(suggest_action(req, "frobnicate"), None);
        assert_eq!(suggest_action(req, ""), None);
        assert_eq!(find_action(req, "set-var(txn.x)"), Some("set-var"));
        assert_eq!(find_action(req, "set-var-fmt(txn.x)"), Some("set-var-fmt"));
        assert_eq!(find_action(req, "set-headers"), None);
        assert!(action_list(HTTP_AFTER_RES_ACTIONS).ends_with("'set-var(*)', 'unset-var(*)'"));
    }
}
