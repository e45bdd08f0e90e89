//! Sample expressions: a fetch followed by converters, `fetch(args),conv1,conv2(args)`
//! (HAProxy's `sample_parse_expr()` and `sample_process()`).
//!
//! Owns parsing, with HAProxy's error messages, and evaluation. Two parsing modes exist as
//! upstream: a whole configuration word (ACL criteria, `set-var`), where a following word that
//! names a converter is taken as one more converter (an old syntax HAProxy still accepts), and
//! the inside of a log-format `%[...]`, where parsing stops at the first character that is not
//! part of the expression.

use crate::conv::Conv;
use crate::ctx::{Dir, SampleCtx};
use crate::fetch::{build_fetch, find_fetch, no_paren_args, parse_args, Class, Fetch};
use crate::smp::{Smp, SmpType};

/// A compiled sample expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleExpr {
    pub(crate) fetch: Fetch,
    /// The fetch keyword as written (for messages).
    pub(crate) kw: &'static str,
    pub(crate) class: Class,
    pub(crate) convs: Vec<Conv>,
    /// Output type of the fetch, then of the last converter.
    pub(crate) out: SmpType,
}

/// HAProxy's `is_idchar()`: characters of fetch and converter keywords.
pub(crate) fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'$')
}

fn idlen(s: &[u8]) -> usize {
    s.iter().position(|&c| !is_idchar(c)).unwrap_or(s.len())
}

/// Where a parse stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct End {
    /// Index of the word holding the end (word mode), 0 in log-format mode.
    pub word: usize,
    /// Byte offset in that word of the first character not consumed.
    pub off: usize,
}

impl SampleExpr {
    /// Parses the sample expression at the start of `words[0]`. In word mode (`lf` false) the
    /// whole word must be consumed and following words naming converters are consumed too; in
    /// log-format mode parsing stops at the first character that does not belong to the
    /// expression.
    ///
    /// # Errors
    /// HAProxy's message without location (`unknown fetch method 'x'`, `fetch method 'int' :
    /// expected type 'integer' at position 1, but got nothing`, `unknown converter 'x'`...).
    pub(crate) fn parse(words: &[String], lf: bool) -> Result<(SampleExpr, End), String> {
        let Some(first) = words.first() else {
            return Err("missing fetch method".into());
        };
        let text = first.as_bytes();
        let n = idlen(text);
        if n == 0 {
            return Err("missing fetch method".into());
        }
        let fkw = &first[..n];
        let kw = find_fetch(fkw).ok_or_else(|| format!("unknown fetch method '{fkw}'"))?;
        let (args, mut pos) = if text.get(n) == Some(&b'(') {
            let (args, used) = parse_args(&first[n + 1..], kw.args, kw.min_args)
                .map_err(|e| format!("fetch method '{fkw}' : {e}"))?;
            let p = n + 1 + used;
            match text.get(p) {
                Some(b')') => (args, p + 1),
                Some(_) => {
                    return Err(format!(
                        "fetch method '{fkw}' : expected ')' before '{}'",
                        &first[p..]
                    ))
                }
                None => return Err(format!("fetch method '{fkw}' : expected ')'")),
            }
        } else {
            let args = no_paren_args(kw.args, kw.min_args)
                .map_err(|e| format!("fetch method '{fkw}' : {e}"))?;
            (args, n)
        };
        let fetch = build_fetch(kw, args)
            .map_err(|e| format!("invalid args in fetch method '{fkw}' : {e}"))?;
        let mut expr = SampleExpr {
            fetch,
            kw: kw.name,
            class: kw.class,
            convs: Vec::new(),
            out: kw.out,
        };
        let mut wi = 0;
        let mut ckw: Option<String> = None;
        loop {
            let mut text = words[wi].as_bytes();
            if pos < text.len() && text[pos] != b',' {
                if lf {
                    break;
                }
                return Err(match &ckw {
                    Some(c) => format!("missing comma after converter '{c}'"),
                    None => format!("missing comma after fetch keyword '{fkw}'"),
                });
            }
            while pos < text.len() && text[pos] == b',' {
                pos += 1;
            }
            if pos >= text.len() {
                if lf || wi + 1 >= words.len() {
                    break;
                }
                // the old syntax: a converter as the next word
                let next = &words[wi + 1];
                if Conv::find(&next[..idlen(next.as_bytes())]).is_none() {
                    // an isolated word that is not a converter (or an empty one): not ours
                    break;
                }
                wi += 1;
                pos = 0;
                text = words[wi].as_bytes();
            }
            let cl = idlen(&text[pos..]);
            let name = &words[wi][pos..pos + cl];
            let Some(conv) = Conv::find(name) else {
                return Err(format!("unknown converter '{name}'"));
            };
            if !expr.out.can_cast(conv.in_type()) {
                return Err(format!("converter '{name}' cannot be applied"));
            }
            pos += cl;
            if text.get(pos) == Some(&b'(') {
                // none of our converters takes arguments: only `()` is accepted
                let rest = &words[wi][pos + 1..];
                if rest.starts_with(')') {
                    pos += 2;
                } else if rest.is_empty() {
                    return Err(format!(
                        "invalid arg 1 in converter '{name}' : expected ')'"
                    ));
                } else {
                    return Err(format!(
                        "invalid arg 1 in converter '{name}' : expected ')' before '{rest}'"
                    ));
                }
            }
            expr.convs.push(conv);
            expr.out = conv.out_type();
            ckw = Some(name.to_string());
        }
        Ok((expr, End { word: wi, off: pos }))
    }

    /// The output type (of the last converter, or of the fetch).
    pub fn out_type(&self) -> SmpType {
        self.out
    }

    /// The fetch keyword.
    pub fn keyword(&self) -> &'static str {
        self.kw
    }

    /// What the fetch depends on.
    pub fn class(&self) -> Class {
        self.class
    }

    /// Evaluates the expression to one value; `None` when the fetch or a converter fails.
    pub fn eval<'c>(&'c self, ctx: &'c dyn SampleCtx, dir: Dir) -> Option<Smp<'c>> {
        let mut s = self.fetch.fetch(ctx, dir)?;
        for c in &self.convs {
            s = c.apply(s)?;
        }
        Some(s)
    }

    /// Evaluates the expression over every value of the fetch (ACL mode) until `f` returns
    /// true; returns whether it did.
    pub fn for_each<'c>(
        &'c self,
        ctx: &'c dyn SampleCtx,
        dir: Dir,
        f: &mut dyn FnMut(Smp<'c>) -> bool,
    ) -> bool {
        if self.convs.is_empty() {
            return self.fetch.for_each(ctx, dir, f);
        }
        self.fetch.for_each(ctx, dir, &mut |s| {
            let mut s = s;
            for c in &self.convs {
                match c.apply(s) {
                    Some(n) => s = n,
                    None => return false,
                }
            }
            f(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testctx::TestCtx;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    fn perr(s: &str, lf: bool) -> String {
        SampleExpr::parse(&w(s), lf).unwrap_err()
    }

    #[test]
    fn parse_errors() {
        assert_eq!(perr("frob", false), "unknown fetch method 'frob'");
        assert_eq!(perr("]", true), "missing fetch method");
        assert_eq!(
            perr("str(a),lower(x)]", true),
            "invalid arg 1 in converter 'lower' : expected ')' before 'x)]'"
        );
        assert_eq!(perr("str(a),]", true), "unknown converter ''");
        assert_eq!(perr("req.hdr(a),frob]", true), "unknown converter 'frob'");
        assert_eq!(
            perr("int]", true),
            "fetch method 'int' : expected type 'integer' at position 1, but got nothing"
        );
        assert_eq!(
            perr("int(1,2)]", true),
            "fetch method 'int' : expected ')' before ',2)]'"
        );
        assert_eq!(
            perr("req.hdr(a,1x)]", true),
            "fetch method 'req.hdr' : failed to parse '1x' as type 'integer' at position 2"
        );
        assert_eq!(
            perr("req.hdr(a,-11)]", true),
            "invalid args in fetch method 'req.hdr' : header occurrence must be >= -10"
        );
        assert_eq!(
            perr("fe_name(x)]", true),
            "fetch method 'fe_name' : expected ')' before 'x)]'"
        );
        assert_eq!(
            perr("str(a\"]b)]", true),
            "fetch method 'str' : expected ')'"
        );
        assert_eq!(
            perr("var]", true),
            "invalid args in fetch method 'var' : Empty variable name cannot be accepted"
        );
        assert_eq!(
            perr("str(a)x", false),
            "missing comma after fetch keyword 'str'"
        );
        assert_eq!(
            perr("str(a),lower;", false),
            "missing comma after converter 'lower'"
        );
    }

    #[test]
    fn parse_ends() {
        let (e, end) = SampleExpr::parse(&w("str(a),,lower]x"), true).unwrap();
        assert_eq!(e.convs, vec![Conv::Lower]);
        assert_eq!(end, End { word: 0, off: 13 });
        let (e, end) = SampleExpr::parse(&w("str(ABC) lower abc"), false).unwrap();
        assert_eq!(e.convs, vec![Conv::Lower]);
        assert_eq!(end, End { word: 1, off: 5 });
        // an empty word ends the expression: a converter after it is not taken
        let words: Vec<String> = ["str(a)", "", "lower"].map(String::from).to_vec();
        let (e, end) = SampleExpr::parse(&words, false).unwrap();
        assert!(e.convs.is_empty());
        assert_eq!(end, End { word: 0, off: 6 });
        let (e, end) = SampleExpr::parse(&w("str(ABC) -i abc"), false).unwrap();
        assert!(e.convs.is_empty());
        assert_eq!(end, End { word: 0, off: 8 });
        let (e, _) = SampleExpr::parse(&w("str(a),lower(),upper"), false).unwrap();
        assert_eq!(e.convs, vec![Conv::Lower, Conv::Upper]);
        assert_eq!(e.out_type(), SmpType::Str);
        assert_eq!(e.keyword(), "str");
        assert_eq!(e.class(), Class::Any);
    }

    #[test]
    fn eval_chain() {
        let c = TestCtx::get("/", &[("y", "HeLLo"), ("y", "B")]);
        let (e, _) = SampleExpr::parse(&w("req.hdr(y),upper,hex"), false).unwrap();
        assert_eq!(e.eval(&c, Dir::Req).unwrap().to_bytes().as_ref(), b"42");
        let mut seen = Vec::new();
        e.for_each(&c, Dir::Req, &mut |s| {
            seen.push(s.to_bytes().into_owned());
            false
        });
        assert_eq!(seen, vec![b"48454C4C4F".to_vec(), b"42".to_vec()]);
        let (e, _) = SampleExpr::parse(&w("req.hdr(nope),lower"), false).unwrap();
        assert!(e.eval(&c, Dir::Req).is_none());
    }
}
