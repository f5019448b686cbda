//! What a caller should do about an error: the one classification every nrd crate's errors
//! answer (kona's `PipelineErrorKind`), so callers decide from it rather than from variants.

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Try again later (a peer unreachable, L1 capacity taken, fees, a timeout, …): nothing is
    /// wrong with the caller's own data.
    Temporary,
    /// The world moved under the caller (an L1 reorg, someone else advanced the rollup, a
    /// replaced head): rebuild from what is canonical, then carry on.
    Reset,
    /// The caller's own data, configuration or code is wrong, or the input is invalid and
    /// retrying cannot help: stop (or refuse) until an operator or the sender acts.
    Critical,
}

impl Severity {
    /// Whether trying the same thing again later can succeed.
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::Temporary)
    }
}

/// An error that knows its [`Severity`].
pub trait Classify {
    /// What a caller should do about this error.
    fn severity(&self) -> Severity;
}
