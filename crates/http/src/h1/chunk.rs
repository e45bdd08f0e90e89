//! Chunked transfer coding: a streaming decoder with HAProxy 2.6's acceptance rules
//! (`h1_parse_chunk_size`, `h1_skip_chunk_crlf`, trailers through the header-field parser)
//! and the encoder HAProxy's H1 mux uses on output (upper-case hexadecimal sizes, no
//! extensions, trailers written as stored).

use super::chars::{hex_val, is_spht};
use super::parse::{parse_fields, FieldCtx, FieldState};
use super::{H1Error, H1Limits};

/// Chunk sizes are refused from 2^52 on (HAProxy keeps them below what a double holds).
const CHUNK_SIZE_LIMIT: u64 = 1 << 52;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Reading hexadecimal digits; `digits` seen so far.
    Size { digits: bool },
    /// Blanks after the size.
    SizeSp,
    /// Inside a chunk extension, up to CR or LF.
    Ext,
    /// CR seen after the size line, LF expected.
    SizeLf,
    /// Chunk data, this many bytes left.
    Data,
    /// CR or LF expected after the data.
    DataCrlf,
    /// CR seen after the data, LF expected.
    DataLf,
    /// Trailer block (raw bytes kept until its empty line).
    Trailers,
    /// Done.
    Done,
}

/// Progress of one [`ChunkDecoder::decode`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkStep {
    /// Input bytes used (the rest belongs to whatever follows the message).
    pub consumed: usize,
    /// The last chunk, the trailers and the final empty line have all been read.
    pub done: bool,
}

/// Streaming decoder of a chunked body. Fed any split of the input (down to one byte at a
/// time), it appends the payload to the caller's buffer and keeps the trailers apart.
#[derive(Clone, Debug)]
pub struct ChunkDecoder {
    st: St,
    size: u64,
    left: u64,
    /// Bytes of the current size line (extension included), to bound it.
    line: usize,
    /// Raw trailer bytes.
    tbuf: Vec<u8>,
    /// In the trailer block: at the start of a line / after a CR there.
    t_sol: bool,
    t_cr: bool,
    trailers: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    status: u16,
    lim: H1Limits,
    /// Body bytes decoded so far.
    total: u64,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    /// A decoder for a request body: errors carry status 400; default limits.
    pub fn new() -> Self {
        Self::with_limits(400, H1Limits::default())
    }

    /// A decoder for a response body: errors carry status 502; default limits.
    pub fn new_response() -> Self {
        Self::with_limits(502, H1Limits::default())
    }

    /// A decoder whose errors carry `status` and whose trailers obey `lim` (`max_raw` bounds
    /// the trailer block and a size line, `max_hdrs` the trailer count).
    pub fn with_limits(status: u16, lim: H1Limits) -> Self {
        ChunkDecoder {
            st: St::Size { digits: false },
            size: 0,
            left: 0,
            line: 0,
            tbuf: Vec::new(),
            t_sol: true,
            t_cr: false,
            trailers: None,
            status,
            lim,
            total: 0,
        }
    }

    /// True once the whole body (last chunk, trailers, final empty line) has been read.
    pub fn is_done(&self) -> bool {
        self.st == St::Done
    }

    /// Payload bytes decoded so far (HAProxy's `body_len`).
    pub fn body_len(&self) -> u64 {
        self.total
    }

    fn err(&self, pos: usize, what: &'static str) -> H1Error {
        H1Error {
            status: self.status,
            pos,
            what,
        }
    }

    /// Decodes as much of `input` as possible, appending chunk data to `out`.
    ///
    /// Precondition: none (calling again after `done` consumes nothing). Outcome: `Ok` with
    /// the bytes used and whether the body is complete; `Err` on a malformed size line, a
    /// missing CRLF after data, a size of 2^52 or more, or invalid trailers. After an error
    /// the decoder must be dropped. `pos` in the error is relative to `input`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<ChunkStep, H1Error> {
        let mut i = 0;
        while i < input.len() {
            match self.st {
                St::Done => break,
                St::Data => {
                    let n = (input.len() - i).min(usize::try_from(self.left).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    self.left -= n as u64;
                    self.total += n as u64;
                    if self.left == 0 {
                        self.st = St::DataCrlf;
                    }
                    continue;
                }
                St::Trailers => {
                    i = self.trailer_bytes(input, i)?;
                    continue;
                }
                _ => {}
            }
            let c = input[i];
            self.line += 1;
            if self.line > self.lim.max_raw {
                return Err(self.err(i, "chunk size line too long"));
            }
            match self.st {
                St::Size { digits } => {
                    if let Some(v) = hex_val(c) {
                        self.size = (self.size << 4) | u64::from(v);
                        if self.size >= CHUNK_SIZE_LIMIT {
                            return Err(self.err(i, "chunk size too large"));
                        }
                        self.st = St::Size { digits: true };
                    } else if !digits {
                        return Err(self.err(i, "chunk size expected"));
                    } else {
                        self.st = St::SizeSp;
                        self.after_size(c, i)?;
                    }
                }
                St::SizeSp => self.after_size(c, i)?,
                St::Ext => {
                    if c == b'\r' {
                        self.st = St::SizeLf;
                    } else if c == b'\n' {
                        self.end_size_line();
                    }
                }
                St::SizeLf => {
                    if c != b'\n' {
                        return Err(self.err(i, "CR not followed by LF after the chunk size"));
                    }
                    self.end_size_line();
                }
                St::DataCrlf => {
                    if c == b'\r' {
                        self.st = St::DataLf;
                    } else if c == b'\n' {
                        self.next_chunk();
                    } else {
                        return Err(self.err(i, "CRLF expected after chunk data"));
                    }
                }
                St::DataLf => {
                    if c != b'\n' {
                        return Err(self.err(i, "CRLF expected after chunk data"));
                    }
                    self.next_chunk();
                }
                St::Data | St::Trailers | St::Done => {}
            }
            i += 1;
        }
        Ok(ChunkStep {
            consumed: i,
            done: self.st == St::Done,
        })
    }

    /// A byte after the size digits: blanks, then an extension or the line end.
    fn after_size(&mut self, c: u8, i: usize) -> Result<(), H1Error> {
        if is_spht(c) {
        } else if c == b';' {
            self.st = St::Ext;
        } else if c == b'\r' {
            self.st = St::SizeLf;
        } else if c == b'\n' {
            self.end_size_line();
        } else {
            return Err(self.err(i, "invalid character after the chunk size"));
        }
        Ok(())
    }

    fn end_size_line(&mut self) {
        // The CRLF after the data is bounded on its own.
        self.line = 0;
        if self.size == 0 {
            self.st = St::Trailers;
            self.t_sol = true;
            self.t_cr = false;
        } else {
            self.left = self.size;
            self.st = St::Data;
        }
    }

    fn next_chunk(&mut self) {
        self.st = St::Size { digits: false };
        self.size = 0;
        self.line = 0;
    }

    /// Stores trailer bytes from `input[i..]` up to the empty line ending the block, checking
    /// what is there as HAProxy does (it refuses a bad trailer as soon as it sees it, before
    /// the block is complete). Returns the next input offset.
    fn trailer_bytes(&mut self, input: &[u8], mut i: usize) -> Result<usize, H1Error> {
        let before = self.tbuf.len();
        let mut complete = false;
        while let Some(&c) = input.get(i) {
            i += 1;
            if self.tbuf.len() >= self.lim.max_raw {
                return Err(self.err(i - 1, "trailers larger than the buffer"));
            }
            self.tbuf.push(c);
            if self.t_cr {
                complete = c == b'\n';
                break;
            }
            if self.t_sol {
                if c == b'\n' {
                    complete = true;
                    break;
                }
                if c == b'\r' {
                    self.t_cr = true;
                    continue;
                }
            }
            self.t_sol = c == b'\n';
        }
        // Only bytes that can complete a field or make one invalid need a new check.
        let prev_eol = before > 0 && matches!(self.tbuf[before - 1], b'\r' | b'\n');
        let trigger = complete
            || prev_eol
            || self.tbuf[before..]
                .iter()
                .any(|&c| matches!(c, b'\r' | b'\n' | b':'));
        if trigger {
            self.check_trailers(i, complete)?;
        }
        Ok(i)
    }

    /// Parses the trailer bytes seen so far; on a complete block, stores the fields and ends
    /// the body.
    fn check_trailers(&mut self, i: usize, complete: bool) -> Result<(), H1Error> {
        let ctx = FieldCtx {
            is_resp: false,
            clean_conn: false,
            lenient_names: true,
            max_hdrs: self.lim.max_hdrs,
        };
        let mut st = FieldState::default();
        let mut list: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let (mut fold, mut conn) = (Vec::new(), Vec::new());
        let r = parse_fields(
            &self.tbuf, 0, &ctx, &mut st, &mut list, &mut fold, &mut conn,
        );
        match r {
            Err((_, what)) => return Err(self.err(i, what)),
            Ok(None) if complete => return Err(self.err(i, "truncated trailers")),
            Ok(None) => return Ok(()),
            Ok(Some(_)) if st.count >= self.lim.max_hdrs => {
                return Err(self.err(i, "too many trailer fields"))
            }
            Ok(Some(_)) => {}
        }
        if st.te {
            if st.clen {
                list.retain(|(n, _)| n != b"content-length");
            }
            if !st.chnk {
                return Err(self.err(i, "Transfer-Encoding trailer without chunked"));
            }
        }
        if !list.is_empty() {
            self.trailers = Some(list);
        }
        self.tbuf = Vec::new();
        self.st = St::Done;
        Ok(())
    }

    /// The trailer fields (names lower-cased, values trimmed), once the body is complete and
    /// if it had any; each call after the first returns `None`.
    pub fn trailers(&mut self) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        self.trailers.take()
    }
}

/// Appends one chunk carrying `data` (`<HEX>\r\n<data>\r\n`, size in upper-case hexadecimal
/// like HAProxy). An empty `data` appends nothing (an empty chunk would end the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    push_hex(data.len() as u64, out);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn push_hex(mut n: u64, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = HEX[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends the last chunk, the trailer fields (`name: value`, as given) and the final empty
/// line: `0\r\n[trailers]\r\n`.
pub fn encode_last_chunk(trailers: Option<&[(Vec<u8>, Vec<u8>)]>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    for (n, v) in trailers.unwrap_or(&[]) {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}
