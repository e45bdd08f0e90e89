//! The command line, parsed as HAProxy 2.6's `init()` reads it.
//!
//! Owns only argument parsing; it never opens files or sockets. Unknown options print the
//! usage and exit 1, like upstream.

use std::path::PathBuf;

/// What the process was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `-v`: print the version.
    Version,
    /// `-vv`: print the version and build options.
    BuildOptions,
    /// `-cc <expr>`: evaluate a condition and exit 0 (true), 1 (false) or 2 (error).
    Condition(String),
    /// `-c`: check the configuration and exit.
    Check,
    /// Start the proxy.
    Run,
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    pub action: Action,
    pub files: Vec<PathBuf>,
    /// `-d`: debug, foreground, verbose.
    pub debug: bool,
    /// `-db`: foreground only.
    pub foreground: bool,
    /// `-D`: daemon.
    pub daemon: bool,
    /// `-W` / `-Ws`: master-worker (with systemd notification for `-Ws`).
    pub master_worker: bool,
    pub systemd: bool,
    /// `-S <bind>`: master CLI address (only `fd@N` is supported).
    pub master_cli: Option<String>,
    pub pidfile: Option<PathBuf>,
    pub localpeer: Option<String>,
    /// `-q`: quiet, no messages but alerts.
    pub quiet: bool,
    /// `-dW`: any warning is fatal.
    pub zero_warning: bool,
    /// `-n <maxconn>`.
    pub maxconn: Option<u32>,
}

/// Why the command line was refused; the caller prints the usage and exits 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// Parses `argv` (without the program name).
///
/// # Errors
/// An unknown option or a missing option argument.
pub fn parse(argv: &[String]) -> Result<Args, UsageError> {
    let mut a = Args {
        action: Action::Run,
        files: Vec::new(),
        debug: false,
        foreground: false,
        daemon: false,
        master_worker: false,
        systemd: false,
        master_cli: None,
        pidfile: None,
        localpeer: None,
        quiet: false,
        zero_warning: false,
        maxconn: None,
    };
    let mut i = 0;
    let mut only_files = false;
    let value = |i: &mut usize, flag: &str| -> Result<String, UsageError> {
        *i += 1;
        argv.get(*i)
            .cloned()
            .ok_or_else(|| UsageError(format!("option '{flag}' expects an argument")))
    };
    while i < argv.len() {
        let arg = argv[i].as_str();
        if only_files || !arg.starts_with('-') || arg == "-" {
            if only_files {
                a.files.push(PathBuf::from(arg));
                i += 1;
                continue;
            }
            return Err(UsageError(format!("unexpected argument '{arg}'")));
        }
        match arg {
            "--" => only_files = true,
            "-v" => a.action = Action::Version,
            "-vv" => a.action = Action::BuildOptions,
            "-V" => a.quiet = false,
            "-c" => a.action = Action::Check,
            "-cc" => a.action = Action::Condition(value(&mut i, arg)?),
            "-d" => {
                a.debug = true;
                a.foreground = true;
            }
            "-db" => a.foreground = true,
            "-dW" => a.zero_warning = true,
            "-D" => a.daemon = true,
            "-W" => a.master_worker = true,
            "-Ws" => {
                a.master_worker = true;
                a.systemd = true;
            }
            "-q" => a.quiet = true,
            "-f" => a.files.push(PathBuf::from(value(&mut i, arg)?)),
            "-p" => a.pidfile = Some(PathBuf::from(value(&mut i, arg)?)),
            "-L" => a.localpeer = Some(value(&mut i, arg)?),
            "-S" => a.master_cli = Some(value(&mut i, arg)?),
            "-n" => {
                let v = value(&mut i, arg)?;
                a.maxconn = Some(
                    v.parse()
                        .map_err(|_| UsageError(format!("invalid value for -n: '{v}'")))?,
                );
            }
            "-N" | "-m" | "-C" | "-x" => {
                value(&mut i, arg)?;
            }
            "-sf" | "-st" => {
                // old pids follow until the next option; they are accepted and ignored
                while argv
                    .get(i + 1)
                    .is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit()))
                {
                    i += 1;
                }
            }
            s if s.starts_with("-d") => {} // any other debug flag (-dM, -dr, -dV, -dD...)
            s => return Err(UsageError(format!("unknown option '{s}'"))),
        }
        i += 1;
    }
    Ok(a)
}

/// The usage text printed on a bad command line.
pub fn usage(prog: &str) -> String {
    format!(
        "Usage : {prog} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n\
        \x20       [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n\
        \x20       -v displays version ; -vv shows known build options.\n\
        \x20       -d enters debug mode ; -db only disables background mode.\n\
        \x20       -V enters verbose mode (disables quiet mode)\n\
        \x20       -D goes daemon\n\
        \x20       -W master-worker mode.\n\
        \x20       -Ws master-worker mode with systemd notify support.\n\
        \x20       -q quiet mode : don't display messages\n\
        \x20       -c check mode : only check config files and exit\n\
        \x20       -cc check condition : evaluate a condition and exit\n\
        \x20       -n sets the maximum total # of connections\n\
        \x20       -L set local peer name (default to hostname)\n\
        \x20       -p writes pids of all children to this file\n\
        \x20       -dW fails if any warning is emitted\n\
        \x20       -S <bind>[,<bind options>...] new master CLI\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, UsageError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn driver_command_lines() {
        let a = p("-d -W -S fd@5 -f /t/cfg -p /t/pid").unwrap();
        assert!(a.debug && a.master_worker && !a.systemd);
        assert_eq!(a.master_cli.as_deref(), Some("fd@5"));
        assert_eq!(a.files, [PathBuf::from("/t/cfg")]);
        assert_eq!(a.pidfile, Some(PathBuf::from("/t/pid")));
        assert_eq!(p("-c -f a -f b").unwrap().files.len(), 2);
        assert_eq!(p("-cc 1").unwrap().action, Action::Condition("1".into()));
        assert_eq!(p("-vv").unwrap().action, Action::BuildOptions);
        assert!(p("-dM -dr -dV -db").is_ok());
        assert!(p("-Ws").unwrap().systemd);
        assert_eq!(p("-f a -- b c").unwrap().files.len(), 3);
    }

    #[test]
    fn bad_command_lines() {
        assert!(p("-f").is_err());
        assert!(p("-Z").is_err());
        assert!(p("-cc").is_err());
        assert!(p("stray").is_err());
    }
}
