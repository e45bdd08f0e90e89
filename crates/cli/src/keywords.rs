//! The command table of the CLI and the help and "Unknown command" messages (HAProxy's
//! `cli_find_kw` and `cli_gen_usage_msg`, with `update_word_fingerprint` and
//! `word_fingerprint_distance` from `tools.c`).
//!
//! Owns upstream's command table (the words and usage line of every command of a 2.6.12
//! worker CLI, marked with what implements it here), the keyword lookup, and the usage
//! messages: `help [words]`, and the answer to an unknown command, which proposes the
//! commands whose remaining words look closest (a fingerprint of character transitions) or
//! lists every command sharing the exactly matching first words. Matching runs over the
//! whole upstream table so that the choice is upstream's; only implemented commands are
//! printed. Pure: no runtime state.

/// A command this CLI implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KwId {
    Help,
    Prompt,
    Quit,
    Operator,
    User,
    ShowCliLevel,
    ShowInfo,
    ShowStat,
    ShowServersConn,
    ShowServersState,
    DisableServer,
    EnableServer,
    SetServer,
}

/// One keyword of upstream's table: its fixed words, its usage line (none for the commands
/// `help` never lists), and what implements it here (`None`: an upstream command that
/// haproxy-rs does not have; it still takes part in matching, so that the proposals for an
/// unknown command are upstream's, but it is never listed).
#[derive(Debug)]
pub struct Kw {
    pub id: Option<KwId>,
    pub words: &'static [&'static str],
    pub usage: Option<&'static str>,
}

const fn kw(id: Option<KwId>, words: &'static [&'static str], usage: Option<&'static str>) -> Kw {
    Kw { id, words, usage }
}

/// Every command a HAProxy 2.6.12 worker CLI knows outside expert mode, in the order of its
/// `help` (its usage lines, byte for byte), then the unlisted ones.
pub const KEYWORDS: &[Kw] = &[
    kw(None, &["abort", "ssl", "ca-file"], Some("abort ssl ca-file <cafile>              : abort a transaction for a CA file")),
    kw(None, &["abort", "ssl", "cert"], Some("abort ssl cert <certfile>               : abort a transaction for a certificate file")),
    kw(None, &["abort", "ssl", "crl-file"], Some("abort ssl crl-file <crlfile>            : abort a transaction for a CRL file")),
    kw(None, &["add", "acl"], Some("add acl [@<ver>] <acl> <pattern>        : add an acl entry")),
    kw(None, &["add", "map"], Some("add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)")),
    kw(None, &["add", "server"], Some("add server <bk>/<srv>                   : create a new server")),
    kw(None, &["add", "ssl", "crt-list"], Some("add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload")),
    kw(None, &["clear", "acl"], Some("clear acl [@<ver>] <acl>                : clear the contents of this acl")),
    kw(None, &["clear", "counters"], Some("clear counters [all]                    : clear max statistics counters (or all counters)")),
    kw(None, &["clear", "map"], Some("clear map [@<ver>] <map>                : clear the contents of this map")),
    kw(None, &["clear", "table"], Some("clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)")),
    kw(None, &["commit", "acl"], Some("commit acl @<ver> <acl>                 : commit the ACL at this version")),
    kw(None, &["commit", "map"], Some("commit map @<ver> <map>                 : commit the map at this version")),
    kw(None, &["commit", "ssl", "ca-file"], Some("commit ssl ca-file <cafile>             : commit a CA file")),
    kw(None, &["commit", "ssl", "cert"], Some("commit ssl cert <certfile>              : commit a certificate file")),
    kw(None, &["commit", "ssl", "crl-file"], Some("commit ssl crl-file <crlfile>           : commit a CRL file")),
    kw(None, &["del", "acl"], Some("del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>")),
    kw(None, &["del", "map"], Some("del map <map> [<key>|#<ref>]            : delete map entries matching <key>")),
    kw(None, &["del", "server"], Some("del server <bk>/<srv>                   : remove a dynamically added server")),
    kw(None, &["del", "ssl", "ca-file"], Some("del ssl ca-file <cafile>                : delete an unused CA file")),
    kw(None, &["del", "ssl", "cert"], Some("del ssl cert <certfile>                 : delete an unused certificate file")),
    kw(None, &["del", "ssl", "crl-file"], Some("del ssl crl-file <crlfile>              : delete an unused CRL file")),
    kw(None, &["del", "ssl", "crt-list"], Some("del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>")),
    kw(None, &["disable", "agent"], Some("disable agent                           : disable agent checks")),
    kw(None, &["disable", "dynamic-cookie", "backend"], Some("disable dynamic-cookie backend <bk>     : disable dynamic cookies on a specific backend")),
    kw(None, &["disable", "frontend"], Some("disable frontend <frontend>             : temporarily disable specific frontend")),
    kw(None, &["disable", "health"], Some("disable health                          : disable health checks")),
    kw(Some(KwId::DisableServer), &["disable", "server"], Some("disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)")),
    kw(None, &["enable", "agent"], Some("enable agent                            : enable agent checks")),
    kw(None, &["enable", "dynamic-cookie", "backend"], Some("enable dynamic-cookie backend <bk>      : enable dynamic cookies on a specific backend")),
    kw(None, &["enable", "frontend"], Some("enable frontend <frontend>              : re-enable specific frontend")),
    kw(None, &["enable", "health"], Some("enable health                           : enable health checks")),
    kw(Some(KwId::EnableServer), &["enable", "server"], Some("enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)")),
    kw(None, &["get", "acl"], Some("get acl <acl> <value>                   : report the patterns matching a sample for an ACL")),
    kw(None, &["get", "map"], Some("get map <acl> <value>                   : report the keys and values matching a sample for a map")),
    kw(None, &["get", "var"], Some("get var <name>                          : retrieve contents of a process-wide variable")),
    kw(None, &["get", "weight"], Some("get weight <bk>/<srv>                   : report a server's current weight")),
    kw(None, &["new", "ssl", "ca-file"], Some("new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list")),
    kw(None, &["new", "ssl", "cert"], Some("new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory")),
    kw(None, &["new", "ssl", "crl-file"], Some("new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list")),
    kw(Some(KwId::Operator), &["operator"], Some("operator                                : lower the level of the current CLI session to operator")),
    kw(None, &["prepare", "acl"], Some("prepare acl <acl>                       : prepare a new version for atomic ACL replacement")),
    kw(None, &["prepare", "map"], Some("prepare map <acl>                       : prepare a new version for atomic map replacement")),
    kw(None, &["set", "dynamic-cookie-key", "backend"], Some("set dynamic-cookie-key backend <bk> <k> : change a backend secret key for dynamic cookies")),
    kw(None, &["set", "map"], Some("set map <map> [<key>|#<ref>] <value>    : modify a map entry")),
    kw(None, &["set", "maxconn", "frontend"], Some("set maxconn frontend <frontend> <value> : change a frontend's maxconn setting")),
    kw(None, &["set", "maxconn", "global"], Some("set maxconn global <value>              : change the per-process maxconn setting")),
    kw(None, &["set", "maxconn", "server"], Some("set maxconn server <bk>/<srv>           : change a server's maxconn setting")),
    kw(None, &["set", "profiling"], Some("set profiling <what> {auto|on|off}      : enable/disable resource profiling (tasks,memory)")),
    kw(None, &["set", "rate-limit"], Some("set rate-limit <setting> <value>        : change a rate limiting value")),
    kw(Some(KwId::SetServer), &["set", "server"], Some("set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl")),
    kw(None, &["set", "severity-output"], Some("set severity-output [none|number|string]: set presence of severity level in feedback information")),
    kw(None, &["set", "ssl", "ca-file"], Some("set ssl ca-file <cafile> <payload>      : replace a CA file")),
    kw(None, &["set", "ssl", "cert"], Some("set ssl cert <certfile> <payload>       : replace a certificate file")),
    kw(None, &["set", "ssl", "crl-file"], Some("set ssl crl-file <crlfile> <payload>    : replace a CRL file")),
    kw(None, &["set", "ssl", "ocsp-response"], Some("set ssl ocsp-response <resp|payload>    : update a certificate's OCSP Response from a base64-encode DER")),
    kw(None, &["set", "ssl", "tls-key"], Some("set ssl tls-key [id|file] <key>         : set the next TLS key for the <id> or <file> listener to <key>")),
    kw(None, &["set", "table"], Some("set table <table> key <k> [data.* <v>]* : update or create a table entry's data")),
    kw(None, &["set", "timeout"], Some("set timeout [cli] <delay>               : change a timeout setting")),
    kw(None, &["set", "weight"], Some("set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)")),
    kw(None, &["show", "acl"], Some("show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents")),
    kw(None, &["show", "activity"], Some("show activity                           : show per-thread activity stats (for support/developers)")),
    kw(None, &["show", "backend"], Some("show backend                            : list backends in the current running config")),
    kw(None, &["show", "cache"], Some("show cache                              : show cache status")),
    kw(Some(KwId::ShowCliLevel), &["show", "cli", "level"], Some("show cli level                          : display the level of the current CLI session")),
    kw(None, &["show", "cli", "sockets"], Some("show cli sockets                        : dump list of cli sockets")),
    kw(None, &["show", "env"], Some("show env [var]                          : dump environment variables known to the process")),
    kw(None, &["show", "errors"], Some("show errors [<px>] [request|response]   : report last request and/or response errors for each proxy")),
    kw(None, &["show", "events"], Some("show events [<sink>] [-w] [-n]          : show event sink state")),
    kw(None, &["show", "fd"], Some("show fd [num]                           : dump list of file descriptors in use or a specific one")),
    kw(Some(KwId::ShowInfo), &["show", "info"], Some("show info [desc|json|typed|float]*      : report information about the running process")),
    kw(None, &["show", "libs"], Some("show libs                               : show loaded object files and libraries")),
    kw(None, &["show", "map"], Some("show map [@ver] [map]                   : report available maps or dump a map's contents")),
    kw(None, &["show", "peers"], Some("show peers [dict|-] [section]           : dump some information about all the peers or this peers section")),
    kw(None, &["show", "pools"], Some("show pools                              : report information about the memory pools usage")),
    kw(None, &["show", "profiling"], Some("show profiling [<what>|<#lines>|byaddr]*: show profiling state (all,status,tasks,memory)")),
    kw(None, &["show", "resolvers"], Some("show resolvers [id]                     : dumps counters from all resolvers section and associated name servers")),
    kw(None, &["show", "schema", "json"], Some("show schema json                        : report schema used for stats")),
    kw(Some(KwId::ShowServersConn), &["show", "servers", "conn"], Some("show servers conn [<backend>]           : dump server connections status (all or for a single backend)")),
    kw(Some(KwId::ShowServersState), &["show", "servers", "state"], Some("show servers state [<backend>]          : dump volatile server information (all or for a single backend)")),
    kw(None, &["show", "sess"], Some("show sess [id]                          : report the list of current sessions or dump this exact session")),
    kw(None, &["show", "ssl", "ca-file"], Some("show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>")),
    kw(None, &["show", "ssl", "cert"], Some("show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file")),
    kw(None, &["show", "ssl", "crl-file"], Some("show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>")),
    kw(None, &["show", "ssl", "crt-list"], Some("show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>")),
    kw(None, &["show", "ssl", "ocsp-response"], Some("show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response")),
    kw(None, &["show", "ssl", "providers"], Some("show ssl providers                      : show loaded SSL providers")),
    kw(None, &["show", "startup-logs"], Some("show startup-logs                       : report logs emitted during HAProxy startup")),
    kw(Some(KwId::ShowStat), &["show", "stat"], Some("show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server")),
    kw(None, &["show", "table"], Some("show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)")),
    kw(None, &["show", "tasks"], Some("show tasks                              : show running tasks")),
    kw(None, &["show", "threads"], Some("show threads                            : show some threads debugging information")),
    kw(None, &["show", "tls-keys"], Some("show tls-keys [id|*]                    : show tls keys references or dump tls ticket keys when id specified")),
    kw(None, &["show", "trace"], Some("show trace [<module>]                   : show live tracing state")),
    kw(None, &["show", "version"], Some("show version                            : show version of the current process")),
    kw(None, &["shutdown", "frontend"], Some("shutdown frontend <frontend>            : stop a specific frontend")),
    kw(None, &["shutdown", "session"], Some("shutdown session [id]                   : kill a specific session")),
    kw(None, &["shutdown", "sessions", "server"], Some("shutdown sessions server <bk>/<srv>     : kill sessions on a server")),
    kw(None, &["trace"], Some("trace [<module>|0] [cmd [args...]]      : manage live tracing (empty to list, 0 to stop all)")),
    kw(Some(KwId::User), &["user"], Some("user                                    : lower the level of the current CLI session to user")),
    kw(Some(KwId::Help), &["help"], None),
    kw(Some(KwId::Prompt), &["prompt"], None),
    kw(Some(KwId::Quit), &["quit"], None),
    kw(None, &["expert-mode"], None),
    kw(None, &["experimental-mode"], None),
];

impl Kw {
    /// Listed by `help` here: implemented and with a usage line.
    fn listed(&self) -> bool {
        self.id.is_some() && self.usage.is_some()
    }
}

/// Words of a keyword are compared up to this many (`CLI_PREFIX_KW_NB`).
const PREFIX_KW_NB: usize = 5;
/// At most this many close matches are proposed (`CLI_MAX_MATCHES`).
const MAX_MATCHES: usize = 5;

/// The always-present end of every usage message.
const TRAILER: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n";

/// The command whose words are the first words of `args` (`cli_find_kw`), the first in
/// table order.
pub fn find_kw(args: &[Vec<u8>]) -> Option<&'static Kw> {
    KEYWORDS.iter().find(|kw| {
        kw.words
            .iter()
            .enumerate()
            .all(|(i, w)| args.get(i).is_some_and(|a| a.as_slice() == w.as_bytes()))
    })
}

/// Word `i` of `args`, empty past the end (C's trailing empty slots).
fn arg(args: &[Vec<u8>], i: usize) -> &[u8] {
    args.get(i).map_or(&[], |a| a.as_slice())
}

/// How many leading words of `kw` equal those of `args` (stopping at an empty word).
fn matching_words(kw: &Kw, args: &[Vec<u8>], max: usize) -> usize {
    let mut n = 0;
    while n < max && n < kw.words.len() {
        let a = arg(args, n);
        if a.is_empty() || a != kw.words[n].as_bytes() {
            break;
        }
        n += 1;
    }
    n
}

/// The usage message for `args` (`cli_gen_usage_msg`). When `args` starts with `help`, the
/// help text for the following words; otherwise the answer to an unknown command.
/// Commands are chosen among all of upstream's, as upstream does, but only implemented ones
/// are listed, sorted by usage line, followed by help/prompt/quit.
pub fn usage_msg(args: &[Vec<u8>]) -> String {
    let (ishelp, args) = match args.first() {
        Some(a) if a.as_slice() == b"help" => (true, &args[1..]),
        _ => (false, args),
    };
    // the longest run of exactly matching first words over all commands
    let length = KEYWORDS
        .iter()
        .map(|kw| matching_words(kw, args, PREFIX_KW_NB))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    if ishelp {
        out.push_str("The following commands are valid at this level:\n");
    } else if length == 0 && arg(args, 0).is_empty() {
        out.push_str("Unknown command. Please enter one of the following commands only:\n");
    } else {
        out.push_str("Unknown command, but maybe one of the following ones is a better match:\n");
    }

    // the words after the exact match are compared by fingerprint
    let mut matches: Vec<(&Kw, u32)> = Vec::new();
    if !arg(args, length).is_empty() {
        for kw in KEYWORDS {
            if kw.usage.is_none() || matching_words(kw, args, length) != length {
                continue;
            }
            let mut word_sig = [0u8; 1024];
            let mut list_sig = [0u8; 1024];
            let mut totlen = 0usize;
            let mut i = length;
            while i < PREFIX_KW_NB && !arg(args, i).is_empty() {
                update_word_fingerprint(&mut word_sig, arg(args, i));
                totlen += arg(args, i).len();
                i += 1;
            }
            let mut i = length;
            while i < PREFIX_KW_NB && i < kw.words.len() {
                update_word_fingerprint(&mut list_sig, kw.words[i].as_bytes());
                totlen += kw.words[i].len();
                i += 1;
            }
            let dist = word_fingerprint_distance(&word_sig, &list_sig);
            let worst = if matches.len() == MAX_MATCHES {
                matches[MAX_MATCHES - 1].1
            } else {
                u32::MAX
            };
            if (dist as usize) < 5 * totlen / 2 && dist < worst {
                if matches.len() == MAX_MATCHES {
                    matches.pop();
                }
                // after the entries at least as close: ties keep table order
                let at = matches
                    .iter()
                    .position(|m| m.1 > dist)
                    .unwrap_or(matches.len());
                matches.insert(at, (kw, dist));
            }
        }
    }
    let mut entries: Vec<&Kw> = Vec::new();
    if let Some(&(_, best)) = matches.first() {
        for &(kw, dist) in &matches {
            if dist > 5 * best / 2 {
                break;
            }
            entries.push(kw);
        }
        entries.retain(|kw| kw.listed());
    } else {
        entries.extend(
            KEYWORDS
                .iter()
                .filter(|kw| kw.listed() && matching_words(kw, args, length) == length),
        );
    }
    entries.sort_by(|a, b| a.usage.cmp(&b.usage));
    for kw in entries {
        out.push_str("  ");
        out.push_str(kw.usage.unwrap_or(""));
        out.push('\n');
    }
    out.push_str(TRAILER);
    out
}

/// Adds the fingerprint of `word` to `fp` (`update_word_fingerprint`): counts of
/// transitions between character classes (1..=26 letters, 27 digits, 28 other/begin/end),
/// indexed `32*from+to`; row 0 marks the classes present.
pub fn update_word_fingerprint(fp: &mut [u8; 1024], word: &[u8]) {
    let class = |c: u8| match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a' + 1) as usize,
        b'0'..=b'9' => 27,
        _ => 28,
    };
    let mut from = 28;
    for &c in word {
        let to = class(c);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

/// Sum of the differences between two fingerprints (`word_fingerprint_distance`).
pub fn word_fingerprint_distance(a: &[u8; 1024], b: &[u8; 1024]) -> u32 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| u32::from(x.abs_diff(y)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Vec<u8>> {
        crate::request::tokenize(s.as_bytes())
    }

    const CONN: &str = "  show servers conn [<backend>]           : dump server connections status (all or for a single backend)\n";
    const STATE: &str = "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)\n";

    #[test]
    fn keyword_lookup_needs_every_word() {
        let id = |s: &str| find_kw(&args(s)).map(|k| k.id);
        assert_eq!(id("show stat extra"), Some(Some(KwId::ShowStat)));
        assert_eq!(
            id("show servers conn be"),
            Some(Some(KwId::ShowServersConn))
        );
        assert_eq!(id("show servers"), None);
        assert_eq!(id("SHOW stat"), None);
        assert_eq!(id(""), None);
        assert_eq!(id("quit now"), Some(Some(KwId::Quit)));
        // upstream commands not implemented here are known, without an implementation
        assert_eq!(id("show sess"), Some(None));
        assert_eq!(find_kw(&args("new ssl crl-file x")).unwrap().words.len(), 3);
    }

    #[test]
    fn usage_lines_are_upstream_width() {
        for kw in KEYWORDS {
            if let Some(u) = kw.usage {
                assert_eq!(u.find(": "), Some(40), "{u}");
            }
        }
    }

    #[test]
    fn partial_command_lists_the_family() {
        // upstream 2.6.12, "show servers" and "show servers foo"
        let want = format!(
            "Unknown command, but maybe one of the following ones is a better match:\n{CONN}{STATE}{TRAILER}"
        );
        assert_eq!(usage_msg(&args("show servers")), want);
        assert_eq!(usage_msg(&args("show servers foo")), want);
    }

    #[test]
    fn misspelling_is_fuzzy_matched() {
        // upstream 2.6.12 answers these with exactly one proposal
        let stat = "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server\n";
        assert_eq!(
            usage_msg(&args("shwo stat")),
            format!("Unknown command, but maybe one of the following ones is a better match:\n{stat}{TRAILER}")
        );
        assert_eq!(
            usage_msg(&args("show\\ servers conn bk")),
            format!("Unknown command, but maybe one of the following ones is a better match:\n{CONN}{TRAILER}")
        );
    }

    #[test]
    fn proposals_are_upstreams_restricted_to_ours() {
        // upstream 2.6.12 proposes add acl, show fd, show info, trace and user for "foo",
        // and show env, show fd, show info, show pools and show sess for "show foo"
        let info = "  show info [desc|json|typed|float]*      : report information about the running process\n";
        let user = "  user                                    : lower the level of the current CLI session to user\n";
        let head = "Unknown command, but maybe one of the following ones is a better match:\n";
        assert_eq!(
            usage_msg(&args("foo")),
            format!("{head}{info}{user}{TRAILER}")
        );
        assert_eq!(
            usage_msg(&args("show foo")),
            format!("{head}{info}{TRAILER}")
        );
    }

    #[test]
    fn empty_command_lists_everything_sorted() {
        let m = usage_msg(&args(""));
        assert!(m.starts_with(
            "Unknown command. Please enter one of the following commands only:\n  disable server"
        ));
        assert!(m.ends_with(TRAILER));
        let lines: Vec<&str> = m.lines().skip(1).collect();
        let listed = &lines[..lines.len() - 3];
        assert_eq!(listed.len(), KEYWORDS.iter().filter(|k| k.listed()).count());
        assert_eq!(listed.len(), 10);
        let mut sorted = listed.to_vec();
        sorted.sort();
        assert_eq!(listed, sorted.as_slice());
    }

    #[test]
    fn help_heading_and_filter() {
        let m = usage_msg(&args("help show servers"));
        assert_eq!(
            m,
            format!("The following commands are valid at this level:\n{CONN}{STATE}{TRAILER}")
        );
        let user = "  user                                    : lower the level of the current CLI session to user\n";
        assert_eq!(
            usage_msg(&args("help user")),
            format!("The following commands are valid at this level:\n{user}{TRAILER}")
        );
        assert!(usage_msg(&args("help"))
            .starts_with("The following commands are valid at this level:\n  disable"));
    }

    #[test]
    fn fingerprints() {
        let mut a = [0u8; 1024];
        let mut b = [0u8; 1024];
        update_word_fingerprint(&mut a, b"stat");
        update_word_fingerprint(&mut b, b"stat");
        assert_eq!(word_fingerprint_distance(&a, &b), 0);
        let mut c = [0u8; 1024];
        update_word_fingerprint(&mut c, b"STAT");
        assert_eq!(word_fingerprint_distance(&a, &c), 0);
        let mut d = [0u8; 1024];
        update_word_fingerprint(&mut d, b"sess");
        assert!(word_fingerprint_distance(&a, &d) > 0);
    }
}
