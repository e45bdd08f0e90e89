//! The command line of `hrs-bench`: its options, their defaults and validation. Parsing
//! is pure (arguments in, [`Options`] or an error message out) and tested; `main` turns an
//! error into exit status 2.

use std::path::{Path, PathBuf};

use crate::model::Scenario;

/// The text of `--help` (and of usage errors).
pub const USAGE: &str = "\
usage: hrs-bench [--proxy PATH] [--rounds N] [--duration SECS] [--warmup SECS]
                 [--only S1,S2,...] [--json PATH] [--doc PATH | --no-doc] [--keep]

Side by side: haproxy-rs, upstream haproxy 2.6 and nginx as reverse proxies (and the
backend directly, the limit), in front of one nginx backend; scenarios S1-S5, rounds
alternated. Prints markdown tables, writes JSON and the generated part of
docs/performance.md.

  --proxy PATH      haproxy-rs binary (default: <workspace>/target/release/haproxy-rs)
  --rounds N        rounds, each target once per case and round (default 3)
  --duration SECS   measured run length, whole seconds (default 5)
  --warmup SECS     unmeasured client run before each measured one, may be 0 or
                    fractional (default 1)
  --only LIST       scenarios to run, e.g. S1,S3 (default: all); with --only the doc
                    is not rewritten unless --doc is given
  --json PATH       results file (default: <workspace>/target/bench/results.json)
  --doc PATH        report to rewrite between its bench markers
                    (default: <workspace>/docs/performance.md)
  --no-doc          do not touch the report
  --keep            keep the temp directory (configs, logs, client outputs)
  -h, --help        this text
";

/// What a run was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub proxy: PathBuf,
    pub rounds: u32,
    /// Seconds of each measured client run (wrk and ab take whole seconds only).
    pub duration: u32,
    /// Seconds of the unmeasured client run before each measured one.
    pub warmup: f64,
    /// Scenarios to run, in S1..S5 order, without duplicates.
    pub only: Vec<Scenario>,
    pub json: PathBuf,
    /// The report to rewrite, if any.
    pub doc: Option<PathBuf>,
    pub keep: bool,
}

/// The outcome of parsing: run with options, or print the usage.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Parses the arguments (without the program name). `workspace` anchors the default
/// paths. Returns a one-line message for anything invalid.
pub fn parse(args: &[String], workspace: &Path) -> Result<Parsed, String> {
    let mut proxy = workspace.join("target/release/haproxy-rs");
    let mut rounds = 3;
    let mut duration = 5;
    let mut warmup = 1.0;
    let mut only: Option<Vec<Scenario>> = None;
    let mut json = workspace.join("target/bench/results.json");
    let mut doc: Option<PathBuf> = None;
    let mut no_doc = false;
    let mut keep = false;

    let mut i = 0;
    while i < args.len() {
        // "--opt=value" and "--opt value" are the same
        let (name, inline) = match args[i].split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (args[i].clone(), None),
        };
        i += 1;
        let mut value = |what: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = args
                .get(i)
                .cloned()
                .ok_or_else(|| format!("{name} needs {what}"))?;
            i += 1;
            Ok(v)
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--proxy" => proxy = PathBuf::from(value("a path")?),
            "--rounds" => rounds = parse_count(&name, &value("a number")?)?,
            "--duration" => duration = parse_count(&name, &value("a number of seconds")?)?,
            "--warmup" => {
                let v = value("a number of seconds")?;
                warmup = v
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && (0.0..=600.0).contains(w))
                    .ok_or_else(|| {
                        format!("--warmup: {v:?} is not a number of seconds (0 to 600)")
                    })?;
            }
            "--only" => only = Some(parse_scenarios(&value("a list such as S1,S3")?)?),
            "--json" => json = PathBuf::from(value("a path")?),
            "--doc" => doc = Some(PathBuf::from(value("a path")?)),
            "--no-doc" => no_doc = true,
            "--keep" => keep = true,
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
        if matches!(name.as_str(), "--no-doc" | "--keep") && inline.is_some() {
            return Err(format!("{name} takes no value"));
        }
    }
    if no_doc && doc.is_some() {
        return Err("--doc and --no-doc exclude each other".to_string());
    }
    let doc = match (no_doc, doc, &only) {
        (true, _, _) => None,
        (false, Some(path), _) => Some(path),
        (false, None, Some(_)) => None,
        (false, None, None) => Some(workspace.join("docs/performance.md")),
    };
    Ok(Parsed::Run(Options {
        proxy,
        rounds,
        duration,
        warmup,
        only: only.unwrap_or_else(|| Scenario::ALL.to_vec()),
        json,
        doc,
        keep,
    }))
}

/// A whole number from 1 to 3600.
fn parse_count(name: &str, v: &str) -> Result<u32, String> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=3600).contains(n))
        .ok_or_else(|| format!("{name}: {v:?} is not a whole number from 1 to 3600"))
}

/// "S1,s3" -> [S1, S3] (sorted, deduplicated).
fn parse_scenarios(v: &str) -> Result<Vec<Scenario>, String> {
    let mut out = Vec::new();
    for part in v.split(',').filter(|p| !p.trim().is_empty()) {
        let sc = Scenario::parse(part)
            .ok_or_else(|| format!("--only: unknown scenario {:?} (S1 to S5)", part.trim()))?;
        out.push(sc);
    }
    if out.is_empty() {
        return Err("--only: no scenario given".to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args, Path::new("/ws"))? {
            Parsed::Run(o) => Ok(o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults() {
        let o = run(&[]).unwrap();
        assert_eq!(o.proxy, PathBuf::from("/ws/target/release/haproxy-rs"));
        assert_eq!((o.rounds, o.duration, o.warmup), (3, 5, 1.0));
        assert_eq!(o.only, Scenario::ALL.to_vec());
        assert_eq!(o.json, PathBuf::from("/ws/target/bench/results.json"));
        assert_eq!(o.doc, Some(PathBuf::from("/ws/docs/performance.md")));
        assert!(!o.keep);
    }

    #[test]
    fn every_option() {
        let o = run(&[
            "--proxy",
            "/p",
            "--rounds=5",
            "--duration",
            "2",
            "--warmup",
            "0.5",
            "--only",
            "s3,S1,S3",
            "--json",
            "/j",
            "--doc",
            "/d",
            "--keep",
        ])
        .unwrap();
        assert_eq!(o.proxy, PathBuf::from("/p"));
        assert_eq!((o.rounds, o.duration, o.warmup), (5, 2, 0.5));
        assert_eq!(o.only, vec![Scenario::S1, Scenario::S3]);
        assert_eq!(o.json, PathBuf::from("/j"));
        assert_eq!(o.doc, Some(PathBuf::from("/d")));
        assert!(o.keep);
    }

    #[test]
    fn doc_choice() {
        assert_eq!(run(&["--no-doc"]).unwrap().doc, None);
        assert_eq!(run(&["--only", "S4"]).unwrap().doc, None);
        assert_eq!(
            run(&["--only", "S4", "--doc", "x.md"]).unwrap().doc,
            Some(PathBuf::from("x.md"))
        );
        assert!(run(&["--doc", "x.md", "--no-doc"]).is_err());
    }

    #[test]
    fn errors() {
        for bad in [
            &["--rounds", "0"][..],
            &["--rounds", "x"],
            &["--duration", "1.5"],
            &["--warmup", "-1"],
            &["--warmup", "nan"],
            &["--only", "S9"],
            &["--only", ","],
            &["--proxy"],
            &["--bogus"],
            &["--keep=yes"],
        ] {
            assert!(run(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(run(&["--help"]), Err("help".into()));
    }
}
