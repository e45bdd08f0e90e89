//! Running one CLI command: HAProxy 2.6's `cli_parse_request` dispatch and the parsers of
//! the supported commands (`cli_parse_show_stat`, `cli_parse_show_info`,
//! `cli_parse_show_servers`, `cli_parse_set_server`, `cli_parse_enable/disable_server`,
//! `cli_parse_set_lvl`, `cli_parser_help`, `prompt`, `quit`).
//!
//! Owns argument checking, levels ("Permission denied"), and the error texts; the replies
//! themselves are formatted by `stat`, `info`, `servers` and `keywords`. May read the
//! runtime through [`crate::world`] and change a server's administrative state there; it
//! does no I/O.

use crate::keywords::{find_kw, usage_msg, KwId};
use crate::snapshot::InfoSnap;
use crate::stat::{show_stat, StatFilter};
use crate::world::CliState;
use hrs_cfg::model::Cap;
use hrs_cfg::units::atoi;
use hrs_core::{Ev, SrvAdmin, World};

/// Privilege level of a CLI session (`ACCESS_LVL_*`), ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl From<hrs_cfg::model::CliLevel> for Level {
    fn from(l: hrs_cfg::model::CliLevel) -> Level {
        match l {
            hrs_cfg::model::CliLevel::User => Level::User,
            hrs_cfg::model::CliLevel::Operator => Level::Operator,
            hrs_cfg::model::CliLevel::Admin => Level::Admin,
        }
    }
}

/// The per-connection settings commands may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub level: Level,
    /// Interactive mode (`prompt`): the connection stays open, `> ` after each reply.
    pub prompt: bool,
}

/// What the connection does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Print the reply and the end-of-reply marker, go on.
    Next,
    /// `quit`: close without printing anything more.
    Quit,
}

/// What a command may use.
pub struct Env<'a> {
    pub w: &'a mut World,
    pub ev: &'a mut Ev,
    pub st: &'a mut CliState,
    /// `show info` values known outside the world (filled by the caller).
    pub info: &'a InfoSnap,
    /// Wall-clock second.
    pub now: u64,
}

/// `cli_has_level` failing.
pub const PERMISSION_DENIED: &str = "Permission denied\n";
/// Asked for a `show stat`/`show info` form other than the default text.
pub const FORMAT_UNSUPPORTED: &str = "This output format is not supported by haproxy-rs.\n";

/// Word `i` of `args`, empty past the end.
fn arg(args: &[Vec<u8>], i: usize) -> &[u8] {
    args.get(i).map_or(&[], |a| a.as_slice())
}

/// Runs the command made of `args` (already split into words) for session `s` and returns
/// its reply (without the end-of-reply marker, which the connection adds). An unknown
/// command gets the usage message.
pub fn execute(args: &[Vec<u8>], s: &mut Session, env: &mut Env<'_>) -> (String, After) {
    let Some(kw) = find_kw(args) else {
        return (usage_msg(args), After::Next);
    };
    let Some(id) = kw.id else {
        let reply = format!(
            "Command '{}' is not supported by haproxy-rs.\n",
            kw.words.join(" ")
        );
        return (reply, After::Next);
    };
    let reply = match id {
        KwId::Help => usage_msg(args),
        KwId::Prompt => {
            s.prompt = !s.prompt;
            String::new()
        }
        KwId::Quit => return (String::new(), After::Quit),
        KwId::Operator => {
            if s.level < Level::Operator {
                PERMISSION_DENIED.into()
            } else {
                s.level = Level::Operator;
                String::new()
            }
        }
        KwId::User => {
            s.level = Level::User;
            String::new()
        }
        KwId::ShowCliLevel => match s.level {
            Level::Admin => "admin\n",
            Level::Operator => "operator\n",
            Level::User => "user\n",
        }
        .into(),
        KwId::ShowInfo => {
            let rest = &args[2.min(args.len())..];
            if rest
                .iter()
                .any(|a| matches!(a.as_slice(), b"desc" | b"json" | b"typed" | b"float"))
            {
                FORMAT_UNSUPPORTED.into()
            } else {
                show_info(env)
            }
        }
        KwId::ShowStat => show_stat_cmd(args, s.level, env),
        KwId::ShowServersConn | KwId::ShowServersState => {
            let conn = id == KwId::ShowServersConn;
            let only = match arg(args, 3) {
                [] => None,
                name => match env.st.find_proxy(env.w, name, Cap::BE) {
                    Some(px) => Some(px),
                    None => return ("Can't find backend.\n".into(), After::Next),
                },
            };
            let snaps = env.st.snapshot(env.w, env.now, env.ev.stopping());
            let chosen: Vec<&crate::snapshot::PxSnap> = snaps
                .iter()
                .enumerate()
                .filter(|(i, _)| only.is_none_or(|o| o == *i))
                .map(|(_, p)| p)
                .collect();
            if conn {
                crate::servers::show_servers_conn(&chosen, env.w.sh.threads.len() as u32)
            } else {
                crate::servers::show_servers_state(&chosen)
            }
        }
        KwId::DisableServer | KwId::EnableServer => {
            let to = if id == KwId::DisableServer {
                SrvAdmin::Maint
            } else {
                SrvAdmin::Ready
            };
            set_state(s, env, arg(args, 2), to)
        }
        KwId::SetServer => set_server(args, s, env),
    };
    (reply, After::Next)
}

/// `show info`: the caller's values completed from the world.
fn show_info(env: &mut Env<'_>) -> String {
    crate::info::show_info(env.info)
}

/// `show stat [domain proxy] [{<iid>|<proxy>} <type> <sid>] [typed|json|desc|no-maint|up]*`.
fn show_stat_cmd(args: &[Vec<u8>], level: Level, env: &mut Env<'_>) -> String {
    let mut i = 2;
    if arg(args, i) == b"domain" {
        i += 1;
        match arg(args, i) {
            b"proxy" => i += 1,
            b"resolvers" => return FORMAT_UNSUPPORTED.into(),
            _ => return "Invalid statistics domain.\n".into(),
        }
    }
    let mut filter = StatFilter::all();
    // server addresses and balancing algorithms are shown from the operator level
    filter.legends = level >= Level::Operator;
    if !arg(args, i).is_empty() && !arg(args, i + 1).is_empty() && !arg(args, i + 2).is_empty() {
        let name = arg(args, i);
        let iid = match env.st.find_proxy(env.w, name, Cap::NONE) {
            Some(px) => i64::from(env.st.uuid(px)),
            None => i64::from(atoi(name)),
        };
        if iid == 0 {
            return "No such proxy.\n".into();
        }
        filter.bound = Some((
            iid,
            i64::from(atoi(arg(args, i + 1))),
            i64::from(atoi(arg(args, i + 2))),
        ));
        i += 3;
    }
    while !arg(args, i).is_empty() {
        match arg(args, i) {
            b"typed" | b"json" | b"desc" => return FORMAT_UNSUPPORTED.into(),
            b"no-maint" => filter.hide_maint = true,
            b"up" => filter.hide_down = true,
            _ => {}
        }
        i += 1;
    }
    let snaps = env.st.snapshot(env.w, env.now, env.ev.stopping());
    show_stat(&snaps, &filter)
}

/// `disable server`, `enable server` and `set server ... state`: admin level, then the
/// server, then the change.
fn set_state(s: &Session, env: &mut Env<'_>, target: &[u8], to: SrvAdmin) -> String {
    if s.level < Level::Admin {
        return PERMISSION_DENIED.into();
    }
    match env.st.find_server(env.w, target) {
        Ok(srv) => {
            env.st.set_admin(env.w, env.ev, srv, to, env.now);
            String::new()
        }
        Err(e) => e.message().into(),
    }
}

/// `set server <backend>/<server> <what> ...`: only `state ready|drain|maint` is
/// implemented; upstream's other settings are refused by name.
fn set_server(args: &[Vec<u8>], s: &Session, env: &mut Env<'_>) -> String {
    if s.level < Level::Admin {
        return PERMISSION_DENIED.into();
    }
    let srv = match env.st.find_server(env.w, arg(args, 2)) {
        Ok(srv) => srv,
        Err(e) => return e.message().into(),
    };
    match arg(args, 3) {
        b"state" => {
            let to = match arg(args, 4) {
                b"ready" => SrvAdmin::Ready,
                b"drain" => SrvAdmin::Drain,
                b"maint" => SrvAdmin::Maint,
                _ => {
                    return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
                        .into()
                }
            };
            env.st.set_admin(env.w, env.ev, srv, to, env.now);
            String::new()
        }
        w @ (b"weight" | b"health" | b"agent" | b"agent-addr" | b"agent-port" | b"agent-send"
        | b"check-addr" | b"check-port" | b"addr" | b"fqdn" | b"ssl") => format!(
            "'set server <srv> {}' is not supported by haproxy-rs.\n",
            String::from_utf8_lossy(w)
        ),
        _ => "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n".into(),
    }
}
