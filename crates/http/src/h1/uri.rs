//! Request-target rules HAProxy 2.6 applies while converting an HTTP/1 request: the form of
//! the target (origin, asterisk, absolute, authority), the agreement between an absolute
//! target or a CONNECT authority and the `Host` field, and the scheme-based normalization
//! (RFC 3986 6.2.3) that drops a default port from the target and from `Host`.

use super::chars::is_digit;

/// Scheme of an absolute target, including the `://` (HAProxy's `http_parse_scheme`):
/// `alpha *(alnum / "+" / "-" / ".") "://"`. `None` when the target has no such prefix.
pub(crate) fn scheme(uri: &[u8]) -> Option<&[u8]> {
    let first = *uri.first()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let mut i = 1;
    while i < uri.len() && (uri[i].is_ascii_alphanumeric() || matches!(uri[i], b'+' | b'-' | b'.'))
    {
        i += 1;
    }
    if uri.get(i..i + 3) == Some(b"://") {
        Some(&uri[..i + 3])
    } else {
        None
    }
}

/// Where the authority of `uri` lies once `skip` bytes (the scheme) are skipped: the span up
/// to the first `/`, without any `user@` part. Returns `(start, end)` offsets into `uri`.
pub(crate) fn authority_span(uri: &[u8], skip: usize) -> (usize, usize) {
    let mut start = skip;
    let mut i = skip;
    while i < uri.len() && uri[i] != b'/' {
        if uri[i] == b'@' {
            start = i + 1;
        }
        i += 1;
    }
    (start.min(i), i)
}

/// The port part of a `host[:port]` string (HAProxy's `http_get_host_port`): `None` when there
/// is no `:` followed only by digits at the end, `Some(empty)` for a trailing `:`.
pub(crate) fn host_port(host: &[u8]) -> Option<&[u8]> {
    let mut i = host.len();
    while i > 0 && is_digit(host[i - 1]) {
        i -= 1;
    }
    if i == 0 || host[i - 1] != b':' {
        return None;
    }
    Some(&host[i..])
}

/// `host` without its `:port` suffix when [`host_port`] finds one.
fn host_only(host: &[u8]) -> &[u8] {
    match host_port(host) {
        Some(p) => &host[..host.len() - p.len() - 1],
        None => host,
    }
}

/// HAProxy's `http_is_default_port`: an empty port is always default; without a scheme both
/// 80 and 443 are; with one, 80 for `http://` and 443 for `https://` (case-insensitive).
pub(crate) fn is_default_port(scheme: Option<&[u8]>, port: &[u8]) -> bool {
    if port.is_empty() {
        return true;
    }
    match scheme {
        None => port == b"443" || port == b"80",
        Some(s) => {
            (port == b"443" && s.eq_ignore_ascii_case(b"https://"))
                || (port == b"80" && s.eq_ignore_ascii_case(b"http://"))
        }
    }
}

/// What the target check concluded.
pub(crate) enum TargetCheck {
    Ok,
    /// Replace the `Host` value by this one (CONNECT with a default port).
    NormalizeHost(Vec<u8>),
    /// Invalid target or `Host` disagreeing with it.
    Bad(&'static str),
}

/// Validates the request target against the method and the first `Host` value, as the end of
/// HAProxy 2.6's request parsing does. `is_connect` tells whether the method is CONNECT.
///
/// Only two things are checked: a CONNECT target must hold an authority with a port (a
/// scheme, if any, is skipped) agreeing with `Host`; any other target that is neither a path
/// nor `*` must have an authority agreeing with `Host` when there is one (a target without
/// scheme, e.g. `abc`, is then taken whole as the authority). Without `Host`, any target is
/// accepted.
pub(crate) fn check_target(uri: &[u8], is_connect: bool, host: Option<&[u8]>) -> TargetCheck {
    let (sch, auth) = match uri.first() {
        None | Some(b'*') | Some(b'/') => (None, None),
        Some(_) => {
            let sch = scheme(uri);
            let (s, e) = authority_span(uri, sch.map_or(0, <[u8]>::len));
            (sch, Some(&uri[s..e]))
        }
    };
    if is_connect {
        return match auth {
            Some(a) => check_connect(a, host),
            None => TargetCheck::Bad("CONNECT without an authority"),
        };
    }
    match (auth, host) {
        (Some(a), Some(h)) if !a.is_empty() && !a.eq_ignore_ascii_case(h) => match sch {
            Some(sch) if authority_matches(sch, a, h) => TargetCheck::Ok,
            _ => TargetCheck::Bad("Host does not match the target's authority"),
        },
        _ => TargetCheck::Ok,
    }
}

/// CONNECT: the authority must carry a non-empty port; a `Host` field must name the same host
/// and port, or the same host without a port when the port is 80 or 443.
fn check_connect(auth: &[u8], host: Option<&[u8]>) -> TargetCheck {
    let uport = match host_port(auth) {
        Some(p) if !p.is_empty() => p,
        _ => return TargetCheck::Bad("CONNECT authority without a port"),
    };
    let uhost = &auth[..auth.len() - uport.len() - 1];
    let Some(h) = host else {
        return TargetCheck::Ok;
    };
    let hport = host_port(h);
    let hhost = host_only(h);
    match hport {
        Some(p) if !p.is_empty() => {
            if !hhost.eq_ignore_ascii_case(uhost) || p != uport {
                return TargetCheck::Bad("Host does not match the CONNECT authority");
            }
            if is_default_port(None, uport) {
                return TargetCheck::NormalizeHost(hhost.to_vec());
            }
            TargetCheck::Ok
        }
        _ => {
            if !is_default_port(None, uport) || !hhost.eq_ignore_ascii_case(uhost) {
                TargetCheck::Bad("Host does not match the CONNECT authority")
            } else {
                TargetCheck::Ok
            }
        }
    }
}

/// `h1_validate_mismatch_authority`: an absolute target whose authority differs textually
/// from `Host` is still accepted when the only difference is a default port on one side.
fn authority_matches(sch: &[u8], auth: &[u8], host: &[u8]) -> bool {
    let uport = host_port(auth);
    let hport = host_port(host);
    if uport.is_none() && hport.is_none() {
        return false;
    }
    if let Some(p) = uport {
        if !is_default_port(Some(sch), p) {
            return false;
        }
    }
    if let Some(p) = hport {
        if !is_default_port(Some(sch), p) {
            return false;
        }
    }
    host_only(auth).eq_ignore_ascii_case(host_only(host))
}

/// Scheme-based normalization of an absolute target: when the authority ends with a default
/// port for the scheme (or an empty one), returns the target without `:port` and the host
/// part every `Host` field must be set to. `None` when nothing changes.
pub(crate) fn normalize_absolute(uri: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let sch = scheme(uri)?;
    let (s, e) = authority_span(uri, sch.len());
    let auth = &uri[s..e];
    let port = host_port(auth)?;
    if !is_default_port(Some(sch), port) {
        return None;
    }
    let host = &auth[..auth.len() - port.len() - 1];
    let mut out = Vec::with_capacity(uri.len());
    out.extend_from_slice(&uri[..s]);
    out.extend_from_slice(host);
    out.extend_from_slice(&uri[e..]);
    Some((out, host.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &[u8], connect: bool, host: Option<&[u8]>) -> bool {
        !matches!(check_target(uri, connect, host), TargetCheck::Bad(_))
    }

    #[test]
    fn target_forms() {
        assert!(ok(b"/", false, None));
        assert!(ok(b"*", false, None));
        assert!(ok(b"*x", false, None));
        assert!(ok(b"abc", false, None));
        assert!(!ok(b"abc", false, Some(b"x")));
        assert!(ok(b"?a", false, Some(b"?a")));
        assert!(!ok(b"?a", false, Some(b"x")));
        assert!(ok(b"x:80", false, None));
        assert!(!ok(b"x:80", false, Some(b"x")));
        assert!(!ok(b"http:x/y", false, Some(b"x")));
        assert!(ok(b"http:x/y", false, Some(b"http:x")));
        assert!(ok(b"foo://x/p", false, Some(b"x")));
        assert!(!ok(b"/p", true, None));
        assert!(!ok(b"*", true, None));
        assert!(ok(b"http://x:443/", true, Some(b"x")));
        assert!(!ok(b"http://x/", true, None));
        assert!(!ok(b"x", true, None));
        assert!(!ok(b"x:", true, None));
        assert!(ok(b"u@x:443", true, None));
        assert!(ok(b"x:443/p", true, None));
    }

    #[test]
    fn host_agreement() {
        assert!(ok(b"http://x/p", false, Some(b"X")));
        assert!(!ok(b"http://y/p", false, Some(b"x")));
        assert!(ok(b"http://x:80/", false, Some(b"x")));
        assert!(ok(b"http://x/", false, Some(b"x:80")));
        assert!(!ok(b"http://x/", false, Some(b"x:443")));
        assert!(!ok(b"https://x:80/", false, Some(b"x")));
        assert!(!ok(b"foo://x:80/", false, Some(b"x")));
        assert!(!ok(b"http://x:0080/", false, Some(b"x")));
        assert!(ok(b"http://x:/", false, Some(b"x")));
        assert!(ok(b"http:///p", false, Some(b"x")));
        assert!(!ok(b"x:443", true, Some(b"y")));
        assert!(ok(b"x:443", true, Some(b"x")));
        assert!(!ok(b"x:8443", true, Some(b"x")));
        assert!(ok(b"x:8443", true, Some(b"x:8443")));
        assert!(matches!(
            check_target(b"x:443", true, Some(b"X:443")),
            TargetCheck::NormalizeHost(h) if h == b"X"
        ));
    }

    #[test]
    fn normalization() {
        let n = normalize_absolute;
        assert_eq!(
            n(b"http://X:80/p?q"),
            Some((b"http://X/p?q".to_vec(), b"X".to_vec()))
        );
        assert_eq!(
            n(b"http://u@x:80/p"),
            Some((b"http://u@x/p".to_vec(), b"x".to_vec()))
        );
        assert_eq!(n(b"http://x:"), Some((b"http://x".to_vec(), b"x".to_vec())));
        assert_eq!(
            n(b"HTTPS://[::1]:443/"),
            Some((b"HTTPS://[::1]/".to_vec(), b"[::1]".to_vec()))
        );
        assert_eq!(n(b"http://x:8080/"), None);
        assert_eq!(n(b"http://x/"), None);
        assert_eq!(n(b"/p"), None);
    }
}
