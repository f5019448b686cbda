//! A foreign error kept whole inside nrd's cloneable, comparable error enums.

use std::{fmt, sync::Arc};

/// A foreign error that is not `Clone` or `PartialEq` (alloy-evm's executor errors, KZG errors,
/// ABI decoding errors, …), shared so that the nrd error holding it stays both, its source
/// chain intact. Two compare equal when their messages do.
#[derive(Debug)]
pub struct SharedError<E>(Arc<E>);

impl<E> SharedError<E> {
    /// Wraps `err`.
    pub fn new(err: E) -> Self {
        Self(Arc::new(err))
    }

    /// The error itself.
    pub fn get(&self) -> &E {
        &self.0
    }
}

impl<E> Clone for SharedError<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<E> From<E> for SharedError<E> {
    fn from(err: E) -> Self {
        Self::new(err)
    }
}

impl<E: fmt::Display> PartialEq for SharedError<E> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl<E: fmt::Display> Eq for SharedError<E> {}

impl<E: fmt::Display> fmt::Display for SharedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for SharedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A state store's failure (I/O, a corrupt record), carried through state and trie errors
/// with its severity: the store's own error type stays the source.
#[derive(Clone)]
pub struct StoreFault {
    source: Arc<dyn std::error::Error + Send + Sync>,
    severity: crate::Severity,
}

impl StoreFault {
    /// Wraps the store's error `source`, classified as `severity`.
    pub fn new(source: impl std::error::Error + Send + Sync + 'static, severity: crate::Severity) -> Self {
        Self { source: Arc::new(source), severity }
    }

    /// Whether retrying can help (I/O) or the store is damaged.
    pub fn severity(&self) -> crate::Severity {
        self.severity
    }
}

impl fmt::Debug for StoreFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreFault").field("source", &self.source).field("severity", &self.severity).finish()
    }
}

impl fmt::Display for StoreFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.fmt(f)
    }
}

impl std::error::Error for StoreFault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl PartialEq for StoreFault {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.source, &other.source) || self.source.to_string() == other.source.to_string()
    }
}

impl Eq for StoreFault {}
