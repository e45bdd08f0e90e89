//! Variables: scopes, names, typed values and the per-scope stores (HAProxy's `vars.c`).
//!
//! Owns the storage of one scope ([`Vars`]); the runtime decides which store backs each
//! [`Scope`] (process-wide for `proc`, per session, per transaction, per direction) and hands
//! it out through [`crate::SampleCtx::vars`]. Values keep the type of the sample that set
//! them (string, integer, boolean, address, binary), as upstream does. Names are checked at
//! configuration time ([`VarName::parse`]) so evaluation never fails on a bad name.

use crate::smp::Smp;

/// Where a variable lives (`SCOPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Shared by the whole process.
    Proc,
    /// Per client session (connection).
    Sess,
    /// Per transaction (request and response).
    Txn,
    /// Request processing only.
    Req,
    /// Response processing only.
    Res,
    /// Health checks (never available to HTTP rules).
    Check,
}

impl Scope {
    /// The scope keyword (`txn`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Proc => "proc",
            Scope::Sess => "sess",
            Scope::Txn => "txn",
            Scope::Req => "req",
            Scope::Res => "res",
            Scope::Check => "check",
        }
    }
}

/// A variable reference checked at configuration time: scope plus name (without the scope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarName {
    /// The scope prefix.
    pub scope: Scope,
    /// The name after the scope and its dot.
    pub name: Box<str>,
}

impl VarName {
    /// Parses `scope.name` (e.g. `txn.foo.bar`). Characters allowed in the name are
    /// `[A-Za-z0-9._]`.
    ///
    /// # Errors
    /// HAProxy's messages: an empty name, an unknown scope, or an invalid character.
    pub fn parse(full: &str) -> Result<VarName, String> {
        Self::parse_in(full, full)
    }

    /// [`VarName::parse`] of `full`, the start of the configuration text `text`: an invalid
    /// character is quoted with everything after it in `text`, as upstream prints it (e.g.
    /// `'-b)'` for `set-var(txn.a-b)`).
    pub(crate) fn parse_in(full: &str, text: &str) -> Result<VarName, String> {
        if full.is_empty() {
            return Err("Empty variable name cannot be accepted".into());
        }
        let bad_scope = || {
            format!("invalid variable name '{full}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'")
        };
        let (scope, rest) = full.split_once('.').ok_or_else(bad_scope)?;
        let scope = match scope {
            "proc" => Scope::Proc,
            "sess" => Scope::Sess,
            "txn" => Scope::Txn,
            "req" => Scope::Req,
            "res" => Scope::Res,
            "check" => Scope::Check,
            _ => return Err(bad_scope()),
        };
        if rest.is_empty() {
            return Err(bad_scope());
        }
        if let Some(p) = rest
            .bytes()
            .position(|c| !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_'))
        {
            let at = scope.as_str().len() + 1 + p;
            return Err(format!(
                "invalid syntax at char '{}'",
                text.get(at..).unwrap_or(&rest[p..])
            ));
        }
        Ok(VarName {
            scope,
            name: rest.into(),
        })
    }
}

/// The conditions of `set-var(name,cond...)` (2.6 `ifexists`, `ifgt`, ...), as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetCond(u8);

impl SetCond {
    /// Store only when the variable already exists.
    pub const IFEXISTS: u8 = 1;
    /// Store only when the variable does not exist yet.
    pub const IFNOTEXISTS: u8 = 2;
    /// Store only when the new value is empty.
    pub const IFEMPTY: u8 = 4;
    /// Store only when the new value is not empty.
    pub const IFNOTEMPTY: u8 = 8;
    /// Store only when the variable is set.
    pub const IFSET: u8 = 16;
    /// Store only when the variable is not set.
    pub const IFNOTSET: u8 = 32;
    /// Store only when the current integer is greater than the new one.
    pub const IFGT: u8 = 64;
    /// Store only when the current integer is less than the new one.
    pub const IFLT: u8 = 128;

    /// Parses the comma-separated condition list of the `set-var()` action as
    /// `parse_store()` does: an empty item ends the list (what follows it is ignored).
    ///
    /// # Errors
    /// `unknown condition "x"` as HAProxy words it.
    pub fn parse(list: &str) -> Result<SetCond, String> {
        let mut bits = 0u8;
        for c in list.split(',').take_while(|c| !c.is_empty()) {
            bits |= match c {
                "ifexists" => Self::IFEXISTS,
                "ifnotexists" => Self::IFNOTEXISTS,
                "ifempty" => Self::IFEMPTY,
                "ifnotempty" => Self::IFNOTEMPTY,
                "ifset" => Self::IFSET,
                "ifnotset" => Self::IFNOTSET,
                "ifgt" => Self::IFGT,
                "iflt" => Self::IFLT,
                _ => return Err(format!("unknown condition \"{c}\"")),
            };
        }
        Ok(SetCond(bits))
    }

    /// True when no condition is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Decides whether `new` may be stored given the current value `cur` (HAProxy's
    /// `var_set()` checks). `proc` variables always exist (they are declared at parse time).
    pub fn allows(self, scope: Scope, cur: Option<&Smp<'_>>, new: &Smp<'_>) -> bool {
        let b = self.0;
        let exists = cur.is_some() || scope == Scope::Proc;
        if b & Self::IFEXISTS != 0 && !exists {
            return false;
        }
        if b & Self::IFNOTEXISTS != 0 && exists {
            return false;
        }
        let empty = new.bytes().is_some_and(|s| s.is_empty());
        if b & Self::IFEMPTY != 0 && !empty {
            return false;
        }
        if b & Self::IFNOTEMPTY != 0 && empty {
            return false;
        }
        if b & Self::IFSET != 0 && cur.is_none() {
            return false;
        }
        if b & Self::IFNOTSET != 0 && cur.is_some() {
            return false;
        }
        if let (Some(Smp::Sint(c)), Smp::Sint(n)) = (cur, new) {
            if b & Self::IFGT != 0 && c <= n {
                return false;
            }
            if b & Self::IFLT != 0 && c >= n {
                return false;
            }
        }
        true
    }
}

/// The variables of one scope. A small vector: stores hold a handful of variables, so a
/// linear scan beats hashing and keeps allocation to one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    list: Vec<(Box<str>, Smp<'static>)>,
}

impl Vars {
    /// An empty store.
    pub fn new() -> Vars {
        Vars::default()
    }

    /// The value of `name` (without the scope prefix).
    pub fn get(&self, name: &str) -> Option<&Smp<'static>> {
        self.list.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    /// Stores `value` under `name`, replacing any previous value.
    pub fn set(&mut self, name: &str, value: Smp<'static>) {
        match self.list.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value,
            None => self.list.push((name.into(), value)),
        }
    }

    /// Removes `name`; returns whether it was set.
    pub fn unset(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|(n, _)| &**n != name);
        before != self.list.len()
    }

    /// Removes every variable (HAProxy's `vars_prune()` at the end of a scope).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Number of variables set.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when no variable is set.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All variables in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Smp<'static>)> {
        self.list.iter().map(|(n, v)| (&**n, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for scope in [
            Scope::Proc,
            Scope::Sess,
            Scope::Txn,
            Scope::Req,
            Scope::Res,
            Scope::Check,
        ] {
            let v = VarName::parse(&format!("{}.x", scope.as_str())).unwrap();
            assert_eq!((v.scope, &*v.name), (scope, "x"));
        }
        let v = VarName::parse("txn.a.b_c").unwrap();
        assert_eq!((v.scope, &*v.name), (Scope::Txn, "a.b_c"));
        assert_eq!(
            VarName::parse("").unwrap_err(),
            "Empty variable name cannot be accepted"
        );
        assert!(VarName::parse("a")
            .unwrap_err()
            .starts_with("invalid variable name 'a'. A variable name must be start by its scope."));
        assert!(VarName::parse("foo.a").is_err());
        assert_eq!(
            VarName::parse("txn.a-b").unwrap_err(),
            "invalid syntax at char '-b'"
        );
    }

    #[test]
    fn store() {
        let mut v = Vars::new();
        assert!(v.is_empty());
        v.set("a", Smp::Sint(1));
        v.set("b", Smp::Bool(true));
        v.set("a", Smp::Sint(2));
        assert_eq!(v.get("a"), Some(&Smp::Sint(2)));
        assert_eq!(v.len(), 2);
        assert!(!v.is_empty());
        assert!(v.unset("a"));
        assert!(!v.unset("a"));
        assert_eq!(v.get("a"), None);
        assert_eq!(v.get("b"), Some(&Smp::Bool(true)));
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![("b", &Smp::Bool(true))]);
        v.clear();
        assert!(v.get("b").is_none());
    }

    /// `var_set()`'s conditions, one by one: whether `new` is stored given the current value
    /// (`None`: the variable does not exist; `proc` variables always exist, unset).
    #[test]
    fn conditions() {
        let s = |b: &'static [u8]| Smp::str(b);
        let i = Smp::Sint;
        type Case = (Scope, Option<Smp<'static>>, Smp<'static>, bool);
        let table: &[(&str, &[Case])] = &[
            (
                "ifexists",
                &[
                    (Scope::Txn, None, i(1), false),
                    (Scope::Txn, Some(i(0)), i(1), true),
                    (Scope::Proc, None, i(1), true),
                ],
            ),
            (
                "ifnotexists",
                &[
                    (Scope::Txn, None, i(1), true),
                    (Scope::Txn, Some(i(0)), i(1), false),
                    (Scope::Proc, None, i(1), false),
                ],
            ),
            (
                "ifempty",
                &[
                    (Scope::Txn, None, s(b""), true),
                    (Scope::Txn, None, Smp::Bin(b"".as_slice().into()), true),
                    (Scope::Txn, None, s(b"x"), false),
                    (Scope::Txn, None, i(0), false),
                    (Scope::Txn, None, Smp::Bool(false), false),
                ],
            ),
            (
                "ifnotempty",
                &[
                    (Scope::Txn, None, s(b""), false),
                    (Scope::Txn, None, s(b"x"), true),
                    (Scope::Txn, None, i(0), true),
                ],
            ),
            (
                "ifset",
                &[
                    (Scope::Txn, None, i(1), false),
                    (Scope::Txn, Some(s(b"")), i(1), true),
                    (Scope::Proc, None, i(1), false),
                ],
            ),
            (
                "ifnotset",
                &[
                    (Scope::Txn, None, i(1), true),
                    (Scope::Txn, Some(s(b"")), i(1), false),
                    (Scope::Proc, None, i(1), true),
                ],
            ),
            (
                "ifgt",
                &[
                    (Scope::Txn, Some(i(6)), i(5), true),
                    (Scope::Txn, Some(i(5)), i(5), false),
                    (Scope::Txn, Some(i(-42)), i(5), false),
                    (Scope::Txn, Some(s(b"x")), i(5), true),
                    (Scope::Txn, None, i(5), true),
                ],
            ),
            (
                "iflt",
                &[
                    (Scope::Txn, Some(i(-42)), i(5), true),
                    (Scope::Txn, Some(i(5)), i(5), false),
                    (Scope::Txn, Some(i(6)), i(5), false),
                    (Scope::Txn, Some(s(b"x")), i(5), true),
                ],
            ),
        ];
        for (name, cases) in table {
            let c = SetCond::parse(name).unwrap();
            assert!(!c.is_empty());
            for (scope, cur, new, want) in cases.iter() {
                assert_eq!(
                    c.allows(*scope, cur.as_ref(), new),
                    *want,
                    "{name} {scope:?} {cur:?} {new:?}"
                );
            }
        }
        // conditions combine
        let c = SetCond::parse("ifexists,ifnotempty").unwrap();
        assert!(c.allows(Scope::Txn, Some(&i(0)), &s(b"x")));
        assert!(!c.allows(Scope::Txn, Some(&i(0)), &s(b"")));
        assert!(!c.allows(Scope::Txn, None, &s(b"x")));
        assert_eq!(
            SetCond::parse("frob").unwrap_err(),
            "unknown condition \"frob\""
        );
        assert!(SetCond::parse("").unwrap().is_empty());
        // parse_store(): no limit on their number; an empty item ends the list
        assert!(SetCond::parse("ifset,ifnotset,ifgt,iflt,ifempty").is_ok());
        assert_eq!(
            SetCond::parse("ifexists,,frob").unwrap(),
            SetCond::parse("ifexists").unwrap()
        );
        assert!(SetCond::parse(",ifexists").unwrap().is_empty());
    }
}
