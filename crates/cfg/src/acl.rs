//! Config-time checks of ACLs and rule conditions (HAProxy's `parse_acl()` and
//! `parse_acl_cond()` as far as they can fail while the configuration is read), so that their
//! errors are reported at the line, in file order, as upstream reports them.
//!
//! Owns no keyword list: the sample layer's tables answer through [`AclKeywords`], which the
//! binary passes in [`crate::ParseCtx`] (upstream's parser asks the keyword lists that the
//! sample modules registered). A fetch or ACL keyword is therefore accepted here exactly when
//! it works at run time. Compiling and evaluating ACLs belongs to `hrs-sample`.

/// What the parser asks the sample layer (upstream's `find_acl_kw()`, `find_sample_fetch()`,
/// `find_acl_default()` behind `parse_acl_expr()` and `parse_acl_cond()`).
pub trait AclKeywords {
    /// Parses an ACL expression `<criterion> [flags] [operator] [patterns]` (the words of an
    /// `acl` line after the name, or of an anonymous `{ }` ACL) as it will be compiled.
    ///
    /// # Errors
    /// HAProxy's message without prefix (`unknown fetch method 'x' in ACL expression 'x'`,
    /// `missing fetch method in ACL expression ''`...).
    fn check_acl_expr(&self, words: &[String]) -> Result<(), String>;

    /// True when `name` is one of HAProxy's predefined ACLs (`TRUE`, `HTTP_1.1`...).
    fn is_predefined_acl(&self, name: &str) -> bool;
}

/// Checks an ACL definition's words after the name: `<fetch> [flags] [patterns]`.
///
/// # Errors
/// The message of [`AclKeywords::check_acl_expr`].
pub fn check_acl_def(words: &[String], kws: &dyn AclKeywords) -> Result<(), String> {
    kws.check_acl_expr(words)
}

/// Checks a condition (the words after `if`/`unless`) against the ACL names declared so far
/// and the predefined ones, as `parse_acl_cond()`: `or` (any case) and `||` separate term
/// suites, `!` negates (alone it is allowed and ignored), `{ ... }` is an anonymous ACL.
///
/// # Errors
/// `no such ACL : 'x'`, `missing closing '}' in condition`, or the anonymous ACL's error.
pub fn check_cond(
    words: &[String],
    declared: &[String],
    kws: &dyn AclKeywords,
) -> Result<(), String> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].trim_start_matches('!');
        if w.is_empty() || w.eq_ignore_ascii_case("or") || w == "||" {
            i += 1;
            continue;
        }
        if w == "{" {
            let Some(end) = words[i + 1..].iter().position(|x| x == "}") else {
                return Err("missing closing '}' in condition".into());
            };
            kws.check_acl_expr(&words[i + 1..i + 1 + end])?;
            i += end + 2;
            continue;
        }
        if !declared.iter().any(|d| d == w) && !kws.is_predefined_acl(w) {
            return Err(format!("no such ACL : '{w}'"));
        }
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

    /// A stand-in for the sample layer: fetches `path` and `hdr`, predefined `METH_GET`.
    struct Kws;

    impl AclKeywords for Kws {
        fn check_acl_expr(&self, words: &[String]) -> Result<(), String> {
            match words.first().map(String::as_str) {
                None => Err("missing fetch method in ACL expression ''".into()),
                Some(f) if f.starts_with("path") || f.starts_with("hdr") => Ok(()),
                Some(f) => Err(format!(
                    "unknown fetch method '{f}' in ACL expression '{f}'"
                )),
            }
        }
        fn is_predefined_acl(&self, name: &str) -> bool {
            name == "METH_GET"
        }
    }

    #[test]
    fn conditions() {
        let acls = v("a b");
        let ok = |c: &str| check_cond(&v(c), &acls, &Kws);
        assert!(ok("a b || !a { path /x } METH_GET").is_ok());
        assert_eq!(ok("nope").unwrap_err(), "no such ACL : 'nope'");
        assert_eq!(
            ok("{ path /x").unwrap_err(),
            "missing closing '}' in condition"
        );
        assert_eq!(
            ok("{ frob }").unwrap_err(),
            "unknown fetch method 'frob' in ACL expression 'frob'"
        );
        // the terms after an anonymous ACL are checked too, whatever its length
        assert_eq!(
            ok("{ hdr(x) a b } nope").unwrap_err(),
            "no such ACL : 'nope'"
        );
        assert_eq!(ok("{ path } nope").unwrap_err(), "no such ACL : 'nope'");
        // as upstream 2.6.12: an empty anonymous ACL is an expression without fetch...
        assert_eq!(
            ok("{ }").unwrap_err(),
            "missing fetch method in ACL expression ''"
        );
        // ... `or` is case-insensitive, a leading or trailing `||` and a lone `!` are allowed
        assert!(ok("a OR b").is_ok() && ok("|| a").is_ok() && ok("a ||").is_ok());
        assert!(ok("!").is_ok() && ok("!!a").is_ok());
        assert!(check_acl_def(&v("hdr_beg(host) x"), &Kws).is_ok());
    }
}
