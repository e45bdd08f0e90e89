//! Reading the HTTP/1 messages the proxy wrote to a scripted peer (just enough of a parser
//! for assertions: start line, fields in order, de-framed body).

/// One message as received by a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// The request or status line.
    pub start: String,
    /// Header fields in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The body was chunked.
    pub chunked: bool,
}

impl Msg {
    /// The status of a response (0 for a request).
    pub fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .filter(|_| self.start.starts_with("HTTP/"))
            .unwrap_or(0)
    }

    /// The target of a request.
    pub fn path(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or("")
    }

    /// The values of field `name` in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of field `name`.
    pub fn hdr(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }
}

/// Parses the messages in `bytes` in order. `head_reqs` tells, for responses, which ones
/// answer a HEAD request (no body). A message without framing takes the rest (a response
/// delimited by the close); a truncated one is returned as far as it goes.
pub fn parse_all(bytes: &[u8], response: bool) -> Vec<Msg> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(end) = find(rest, b"\r\n\r\n") else {
            panic!("incomplete head in {:?}", String::from_utf8_lossy(rest));
        };
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 4..];
        let mut lines = head.split("\r\n");
        let start = lines.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let status: u16 = if response {
            start
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        let no_body = response && ((100..200).contains(&status) || status == 204 || status == 304);
        let chunked =
            get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let mut body = Vec::new();
        if no_body {
        } else if chunked {
            loop {
                let Some(e) = find(rest, b"\r\n") else {
                    rest = &[];
                    break;
                };
                let size_txt = String::from_utf8_lossy(&rest[..e]).into_owned();
                let size =
                    usize::from_str_radix(size_txt.split(';').next().unwrap_or("").trim(), 16)
                        .unwrap_or_else(|_| panic!("bad chunk size {size_txt:?}"));
                rest = &rest[e + 2..];
                if size == 0 {
                    // trailers then an empty line
                    match find(rest, b"\r\n\r\n").filter(|_| !rest.starts_with(b"\r\n")) {
                        Some(t) => rest = &rest[t + 4..],
                        None => rest = rest.get(2..).unwrap_or(&[]),
                    }
                    break;
                }
                let take = size.min(rest.len());
                body.extend_from_slice(&rest[..take]);
                rest = rest.get(take + 2..).unwrap_or(&[]);
            }
        } else if let Some(cl) = get("content-length") {
            let n: usize = cl.parse().expect("content-length");
            let take = n.min(rest.len());
            body.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        } else if response {
            body.extend_from_slice(rest);
            rest = &[];
        }
        out.push(Msg {
            start,
            headers,
            body,
            chunked,
        });
    }
    out
}

/// The single response in `bytes`.
pub fn rsp(bytes: &[u8]) -> Msg {
    let mut v = parse_all(bytes, true);
    assert_eq!(
        v.len(),
        1,
        "expected one response in {:?}",
        String::from_utf8_lossy(bytes)
    );
    v.remove(0)
}

/// The single request in `bytes`.
pub fn req(bytes: &[u8]) -> Msg {
    let mut v = parse_all(bytes, false);
    assert_eq!(
        v.len(),
        1,
        "expected one request in {:?}",
        String::from_utf8_lossy(bytes)
    );
    v.remove(0)
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// `GET <path>` with a host field, HTTP/1.1.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").into_bytes()
}

/// A `200` response with body `body` and a content-length.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A response with status `status` and an empty body.
pub fn status(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n").into_bytes()
}
