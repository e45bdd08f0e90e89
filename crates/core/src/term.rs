//! Why and when a stream ended (HAProxy's `SF_ERR_*` and `SF_FINST_*`), rendered as the
//! termination state of logs (`%ts`, and `%tsc` with the two cookie characters).

use std::fmt;

/// The first termination character: what caused the end (`SF_ERR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cause {
    /// Normal end (`-`).
    #[default]
    None,
    /// The client aborted (`C`).
    CliClose,
    /// Client-side timeout (`c`).
    CliTo,
    /// The server aborted or sent garbage (`S`).
    SrvClose,
    /// Server-side timeout, including connect (`s`).
    SrvTo,
    /// The proxy decided: deny, error, no server (`P`).
    PrxCond,
    /// A local resource was exhausted (`R`).
    Resource,
    /// Internal error (`I`).
    Internal,
    /// Locally processed (`L`): `http-request return`.
    Local,
    /// The stream was killed administratively (`K`).
    Killed,
    /// A server went down (`D`).
    Down,
}

impl Cause {
    /// The log character.
    pub fn ch(self) -> char {
        match self {
            Cause::None => '-',
            Cause::CliClose => 'C',
            Cause::CliTo => 'c',
            Cause::SrvClose => 'S',
            Cause::SrvTo => 's',
            Cause::PrxCond => 'P',
            Cause::Resource => 'R',
            Cause::Internal => 'I',
            Cause::Local => 'L',
            Cause::Killed => 'K',
            Cause::Down => 'D',
        }
    }
}

/// The second termination character: where the stream was when it ended (`SF_FINST_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Finst {
    /// Not set (`-`).
    #[default]
    None,
    /// Waiting for or processing the request (`R`).
    Req,
    /// Waiting in a queue (`Q`).
    Queue,
    /// Connecting to the server (`C`).
    Conn,
    /// Waiting for the response headers (`H`).
    Hdrs,
    /// Transferring data (`D`).
    Data,
    /// Sending the last bytes to the client (`L`).
    Last,
    /// Tarpitted (`T`).
    Tarpit,
}

impl Finst {
    /// The log character.
    pub fn ch(self) -> char {
        match self {
            Finst::None => '-',
            Finst::Req => 'R',
            Finst::Queue => 'Q',
            Finst::Conn => 'C',
            Finst::Hdrs => 'H',
            Finst::Data => 'D',
            Finst::Last => 'L',
            Finst::Tarpit => 'T',
        }
    }
}

/// A stream's termination: cause and state. The first cause set wins, as in HAProxy where
/// `SF_ERR_*` is only set when still unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Termination {
    pub cause: Cause,
    pub finst: Finst,
}

impl Termination {
    /// Records `cause` at `finst` unless a cause was already recorded.
    pub fn set(&mut self, cause: Cause, finst: Finst) {
        if self.cause == Cause::None {
            self.cause = cause;
        }
        if self.finst == Finst::None {
            self.finst = finst;
        }
    }

    /// `%ts`: the two characters.
    pub fn ts(self) -> [char; 2] {
        [self.cause.ch(), self.finst.ch()]
    }
}

impl fmt::Display for Termination {
    /// The 4-character `%tsc` form (cookie characters are `--`: no cookie persistence).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}--", self.cause.ch(), self.finst.ch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_cause_wins() {
        let mut t = Termination::default();
        assert_eq!(t.to_string(), "----");
        t.set(Cause::SrvTo, Finst::Hdrs);
        t.set(Cause::CliClose, Finst::Data);
        assert_eq!(t.to_string(), "sH--");
    }
}
