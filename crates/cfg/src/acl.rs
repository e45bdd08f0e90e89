//! Config-time checks of ACLs and rule conditions (HAProxy's `parse_acl()` and
//! `parse_acl_cond()` as far as they can fail): known fetch names, declared ACL names,
//! balanced anonymous `{ }` blocks. Compiling and evaluating them belongs to the http layer.
//!
//! Owns the lists of sample fetches and predefined ACLs that haproxy-rs accepts; a fetch is
//! listed here only once it is implemented, so `-c` never accepts what cannot run.

/// Sample fetches haproxy-rs knows (see `docs/config-subset.md`).
pub const FETCHES: &[&str] = &[
    "always_true",
    "always_false",
    "req.hdr",
    "hdr",
    "req.fhdr",
    "res.hdr",
    "shdr",
    "res.fhdr",
    "path",
    "url",
    "method",
    "status",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "http_first_req",
    "bc_src_port",
    "var",
    "str",
    "int",
    "fe_name",
    "be_name",
    "srv_name",
    "base",
    "query",
    "wait_end",
    "req.hdr_cnt",
    "hdr_cnt",
    "req.fhdr_cnt",
    "res.hdr_cnt",
    "shdr_cnt",
    "res.fhdr_cnt",
    "req.hdr_ip",
    "hdr_ip",
    "res.hdr_ip",
    "shdr_ip",
    "req.hdr_val",
    "hdr_val",
    "res.hdr_val",
    "shdr_val",
    "req.ver",
    "req_ver",
    "res.ver",
    "resp_ver",
    "req.proto_http",
    "req.len",
];

/// ACL names HAProxy predefines (`acl.c`, `default_acl_list`).
pub const PREDEFINED_ACLS: &[&str] = &[
    "TRUE",
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_CONTENT",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "WAIT_END",
];

/// The fetch keyword of a sample expression: `req.hdr(host),lower` -> `req.hdr`.
pub fn fetch_name(expr: &str) -> &str {
    let end = expr.find(['(', ',']).unwrap_or(expr.len());
    &expr[..end]
}

/// Match-method suffixes of ACL keywords (`path_beg` = `path -m beg`).
pub const ACL_SUFFIXES: &[&str] = &[
    "beg", "end", "sub", "reg", "dir", "dom", "len", "found", "cnt", "ip",
];

/// True when `name` is a fetch, or a fetch with an ACL match suffix (`hdr_beg`, `path_end`).
pub fn is_known_fetch(name: &str) -> bool {
    FETCHES.contains(&name)
        || name.rsplit_once('_').is_some_and(|(f, m)| {
            ACL_SUFFIXES.contains(&m) && (FETCHES.contains(&f) || f == "url" || f == "path")
        })
}

/// Checks a sample expression's fetch; the error is HAProxy's wording without prefix.
pub fn check_sample(expr: &str) -> Result<(), String> {
    let name = fetch_name(expr);
    if is_known_fetch(name) {
        Ok(())
    } else {
        Err(format!(
            "unknown fetch method '{name}' in ACL expression '{expr}'"
        ))
    }
}

/// Checks an ACL definition's words after the name: `<fetch> [flags] [patterns]`.
pub fn check_acl_def(words: &[String]) -> Result<(), String> {
    match words.first() {
        None => Err("missing fetch method".into()),
        Some(f) => check_sample(f),
    }
}

/// Checks a condition (the words after `if`/`unless`) against the ACL names declared so far.
pub fn check_cond(words: &[String], declared: &[String]) -> Result<(), String> {
    let mut i = 0;
    let mut terms = 0;
    while i < words.len() {
        let mut w = words[i].as_str();
        if w == "||" || w == "or" {
            if terms == 0 {
                return Err(format!("missing ACL before '{w}'"));
            }
            terms = 0;
            i += 1;
            continue;
        }
        while let Some(rest) = w.strip_prefix('!') {
            w = rest;
        }
        if w.is_empty() {
            i += 1;
            continue;
        }
        if w == "{" {
            let Some(end) = words[i + 1..].iter().position(|x| x == "}") else {
                return Err("missing closing '}' in condition".into());
            };
            let inner = &words[i + 1..i + 1 + end];
            if inner.is_empty() {
                return Err("'{ }' is not a valid anonymous ACL".into());
            }
            check_acl_def(inner)?;
            i += end + 2;
            terms += 1;
            continue;
        }
        if !declared.iter().any(|d| d == w) && !PREDEFINED_ACLS.contains(&w) {
            return Err(format!("no such ACL : '{w}'"));
        }
        terms += 1;
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn conditions() {
        let acls = v("a b");
        assert!(check_cond(&v("a b || !a { path /x } METH_GET"), &acls).is_ok());
        assert_eq!(
            check_cond(&v("nope"), &acls).unwrap_err(),
            "no such ACL : 'nope'"
        );
        assert!(check_cond(&v("{ path /x"), &acls).is_err());
        assert!(check_cond(&v("{ frob }"), &acls).is_err());
        assert!(check_cond(&v("|| a"), &acls).is_err());
        assert_eq!(fetch_name("req.hdr(host),lower"), "req.hdr");
        assert!(
            is_known_fetch("path_beg") && is_known_fetch("hdr_sub") && !is_known_fetch("frob_beg")
        );
    }
}
