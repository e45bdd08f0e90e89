//! HAProxy 2.6's built-in error messages (`http_err_msgs`) and reason phrases
//! (`http_get_reason`), byte for byte.
//!
//! Two forms reach clients. Errors the H1 mux sends by itself before any stream exists (400 on
//! a bad request, 408 on `timeout http-request`, 413, 422, 500, 501) are the raw templates of
//! [`error_page`], mixed-case field names included. Errors produced by a stream (503 with no
//! server, 504 on `timeout server`, 502 on a bad response, `deny`...) go through the internal
//! representation and the H1 output path: parse them with [`error_message`], then prepare and
//! format them like any response (names come out lower-cased and `Connection: close`, found
//! in the 400 and 408 templates, is announced last as `connection: close`).

use crate::h1::{parse_response, H1Limits, H1Msg, Parsed};
use crate::msg::Meth;

macro_rules! page {
    ($code:literal, $reason:literal, $len:literal, $conn:literal, $text:literal) => {
        concat!(
            "HTTP/1.1 ",
            $code,
            " ",
            $reason,
            "\r\nContent-length: ",
            $len,
            "\r\nCache-Control: no-cache\r\n",
            $conn,
            "Content-Type: text/html\r\n\r\n<html><body><h1>",
            $code,
            " ",
            $reason,
            "</h1>\n",
            $text,
            "\n</body></html>\n"
        )
        .as_bytes()
    };
}

const P200: &[u8] = page!("200", "OK", "58", "", "Service ready.");
const P400: &[u8] = page!(
    "400",
    "Bad request",
    "90",
    "Connection: close\r\n",
    "Your browser sent an invalid request."
);
const P401: &[u8] = page!(
    "401",
    "Unauthorized",
    "112",
    "",
    "You need a valid user and password to access this content."
);
const P403: &[u8] = page!(
    "403",
    "Forbidden",
    "93",
    "",
    "Request forbidden by administrative rules."
);
const P404: &[u8] = page!(
    "404",
    "Not Found",
    "83",
    "",
    "The resource could not be found."
);
const P405: &[u8] = page!(
    "405",
    "Method Not Allowed",
    "146",
    "",
    "A request was made of a resource using a request method not supported by that resource"
);
const P407: &[u8] = page!(
    "407",
    "Unauthorized",
    "112",
    "",
    "You need a valid user and password to access this content."
);
const P408: &[u8] = page!(
    "408",
    "Request Time-out",
    "110",
    "Connection: close\r\n",
    "Your browser didn't send a complete request in time."
);
const P410: &[u8] = page!(
    "410",
    "Gone",
    "114",
    "",
    "The resource is no longer available and will not be available again."
);
const P413: &[u8] = page!(
    "413",
    "Payload Too Large",
    "106",
    "",
    "The request entity exceeds the maximum allowed."
);
const P421: &[u8] = page!(
    "421",
    "Misdirected Request",
    "104",
    "",
    "Request sent to a non-authoritative server."
);
const P422: &[u8] = page!(
    "422",
    "Unprocessable Content",
    "116",
    "",
    "The server cannot process the contained instructions."
);
const P425: &[u8] = page!(
    "425",
    "Too Early",
    "80",
    "",
    "Your browser sent early data."
);
const P429: &[u8] = page!(
    "429",
    "Too Many Requests",
    "117",
    "",
    "You have sent too many requests in a given amount of time."
);
const P500: &[u8] = page!(
    "500",
    "Internal Server Error",
    "97",
    "",
    "An internal server error occurred."
);
const P501: &[u8] = page!(
    "501",
    "Not Implemented",
    "136",
    "",
    ".The server does not support the functionality required to fulfill the request."
);
const P502: &[u8] = page!(
    "502",
    "Bad Gateway",
    "107",
    "",
    "The server returned an invalid or incomplete response."
);
const P503: &[u8] = page!(
    "503",
    "Service Unavailable",
    "107",
    "",
    "No server is available to handle this request."
);
const P504: &[u8] = page!(
    "504",
    "Gateway Time-out",
    "92",
    "",
    "The server didn't respond in time."
);

/// HAProxy 2.6's built-in error messages (`http_err_codes` with `http_err_msgs`), in
/// upstream's order: the one table of the code base. A status listed here is one that
/// `errorfile`, `deny_status` and `default-errorfiles` accept; 414 and 431 are not among
/// them in 2.6.
pub const HTTP_ERR_MSGS: [(u16, &[u8]); 19] = [
    (200, P200),
    (400, P400),
    (401, P401),
    (403, P403),
    (404, P404),
    (405, P405),
    (407, P407),
    (408, P408),
    (410, P410),
    (413, P413),
    (421, P421),
    (422, P422),
    (425, P425),
    (429, P429),
    (500, P500),
    (501, P501),
    (502, P502),
    (503, P503),
    (504, P504),
];

/// True when `status` has a built-in page (`http_get_status_idx()` finds it, see
/// [`HTTP_ERR_MSGS`]).
pub fn has_error_page(status: u16) -> bool {
    HTTP_ERR_MSGS.iter().any(|&(c, _)| c == status)
}

/// The built-in page for `status` exactly as HAProxy stores it: status line, mixed-case
/// fields (`Content-length`, `Cache-Control`, `Connection: close` for 400 and 408 only,
/// `Content-Type`), empty line, HTML body. This is what the H1 mux writes verbatim for the
/// errors it raises itself (e.g. 400 on an unparsable request, 408 on `timeout
/// http-request`). A status without a page gets the 500 page, as `http_get_status_idx()`
/// answers `HTTP_ERR_500` for an unknown code.
pub fn error_page(status: u16) -> &'static [u8] {
    HTTP_ERR_MSGS
        .iter()
        .find(|&&(c, _)| c == status)
        .map_or(P500, |&(_, page)| page)
}

/// The built-in page for `status` as a parsed message plus its body, the way a stream sees it
/// (HAProxy converts its error files to the internal representation): names lower-cased,
/// `Connection: close` kept (moved last). Feed it to
/// [`crate::h1::prepare_response_out`] (with `proxy_reply_early` when the request was not
/// fully received) and [`crate::h1::format_response`], then write the body. A status without
/// a page gets the 500 page.
pub fn error_message(status: u16) -> (H1Msg, &'static [u8]) {
    let raw = error_page(status);
    match parse_response(raw, Meth::Get, &H1Limits::default()) {
        Ok(Parsed::Done { mut msg, consumed }) => {
            // HAProxy converts error files without cleaning `Connection`: keep the field so
            // the output path sees the close request (it rewrites the field anyway).
            if msg.flags.conn_close {
                msg.head.add_header(b"connection", b"close");
            }
            (msg, raw.get(consumed..).unwrap_or(&[]))
        }
        // The templates are valid responses; this arm is unreachable in practice.
        _ => {
            let head = crate::msg::HttpHead::response(crate::msg::Version::Http11, 500, b"", 0);
            let msg = H1Msg {
                head,
                body: crate::msg::BodyLen::Len(0),
                flags: Default::default(),
            };
            (msg, &[])
        }
    }
}

/// HAProxy 2.6's reason phrase for `status` (`http_get_reason`); never fails: unknown codes
/// get the name of their class ("Informational", "Success", "Redirection", "Client Error",
/// "Server Error") and anything outside 100..=599 gets "Other".
pub fn reason(status: u16) -> &'static str {
    if let Some(r) = known_reason(status) {
        return r;
    }
    match status {
        100..=199 => "Informational",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Other",
    }
}

fn known_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        210 => "Content Different",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        310 => "Too many Redirects",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Method failure",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Retry With",
        450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons",
        456 => "Unrecoverable Error",
        499 => "client has closed connection",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway or Proxy Error",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant also negotiate",
        507 => "Insufficient storage",
        508 => "Loop detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not extended",
        511 => "Network authentication required",
        520 => "Web server is returning an unknown error",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::{format_response, prepare_response_out, ConnMode, ResponseOut};

    #[test]
    fn content_lengths_match_bodies() {
        for &(c, p) in HTTP_ERR_MSGS.iter() {
            assert!(
                p.starts_with(format!("HTTP/1.1 {c} ").as_bytes()),
                "status {c}"
            );
            let s = std::str::from_utf8(p).unwrap();
            let (head, body) = s.split_once("\r\n\r\n").unwrap();
            let cl: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(cl, body.len(), "status {c}");
        }
        assert_eq!(error_page(414), error_page(500));
        assert_eq!(error_page(200), P200);
        assert!(has_error_page(200) && has_error_page(504));
        assert!(!has_error_page(414) && !has_error_page(431) && !has_error_page(302));
    }

    #[test]
    fn raw_400_is_byte_exact() {
        // Captured from haproxy 2.6.12 answering "\x01garbage\r\n\r\n".
        let want: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
        assert_eq!(error_page(400), want);
    }

    /// The stream form of each page, as `http-request deny deny_status <code>` makes haproxy
    /// 2.6.12 send it to an HTTP/1.1 keep-alive client (captured).
    #[test]
    fn stream_form_matches_haproxy() {
        for &(c, _) in HTTP_ERR_MSGS.iter() {
            let (mut msg, body) = error_message(c);
            let plan = prepare_response_out(&mut msg, &ResponseOut::default());
            let mut out = Vec::new();
            format_response(&msg.head, &mut out);
            out.extend_from_slice(body);
            let raw = std::str::from_utf8(error_page(c)).unwrap();
            let (rhead, rbody) = raw.split_once("\r\n\r\n").unwrap();
            let mut want = String::new();
            let mut lines = rhead.split("\r\n");
            want.push_str(lines.next().unwrap());
            want.push_str("\r\n");
            let mut close = false;
            for l in lines {
                if l == "Connection: close" {
                    close = true;
                    continue;
                }
                let (n, v) = l.split_once(": ").unwrap();
                want.push_str(&format!("{}: {}\r\n", n.to_ascii_lowercase(), v));
            }
            if close {
                want.push_str("connection: close\r\n");
            }
            want.push_str("\r\n");
            want.push_str(rbody);
            assert_eq!(String::from_utf8(out).unwrap(), want, "status {c}");
            let want_mode = if close {
                ConnMode::Close
            } else {
                ConnMode::KeepAlive
            };
            assert_eq!(plan.mode, want_mode, "status {c}");
        }
        // Two captures verbatim.
        let (mut msg, body) = error_message(503);
        prepare_response_out(&mut msg, &ResponseOut::default());
        let mut out = Vec::new();
        format_response(&msg.head, &mut out);
        out.extend_from_slice(body);
        assert_eq!(
            out,
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
        let (mut msg, _) = error_message(400);
        prepare_response_out(&mut msg, &ResponseOut::default());
        let mut out = Vec::new();
        format_response(&msg.head, &mut out);
        assert_eq!(
            out,
            b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(reason(302), "Moved Temporarily");
        assert_eq!(reason(502), "Bad Gateway or Proxy Error");
        assert_eq!(reason(208), "Success");
        assert_eq!(reason(103), "Informational");
        assert_eq!(reason(99), "Other");
        assert_eq!(reason(600), "Other");
    }

    /// Exactly the codes of `http_get_reason()`'s table have a phrase of their own; every
    /// other code gets its class name.
    #[test]
    fn reason_table_covers_upstream_codes() {
        const KNOWN: [u16; 68] = [
            100, 101, 102, 200, 201, 202, 203, 204, 205, 206, 207, 210, 226, 300, 301, 302, 303,
            304, 305, 307, 308, 310, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
            412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 449,
            450, 451, 456, 499, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 520,
        ];
        let mut phrases = std::collections::HashSet::new();
        for c in 0..=1000u16 {
            let class = match c {
                100..=199 => "Informational",
                200..=299 => "Success",
                300..=399 => "Redirection",
                400..=499 => "Client Error",
                500..=599 => "Server Error",
                _ => "Other",
            };
            if KNOWN.contains(&c) {
                assert_ne!(reason(c), class, "status {c}");
                assert!(phrases.insert(reason(c)), "status {c}: phrase used twice");
            } else {
                assert_eq!(reason(c), class, "status {c}");
            }
        }
        assert_eq!(reason(200), "OK");
        assert_eq!(reason(413), "Request Entity Too Large");
        assert_eq!(reason(520), "Web server is returning an unknown error");
    }
}
