//! Locks that survive a panicking holder: nrd's shared state stays usable after a thread
//! panicked while holding it (each holder leaves it consistent between statements), so a
//! poisoned lock is recovered rather than propagated.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`Mutex::lock`] that recovers the guard of a poisoned mutex.
pub trait LockExt<T: ?Sized> {
    /// Locks, recovering from poisoning.
    fn lock_or_recover(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockExt<T> for Mutex<T> {
    fn lock_or_recover(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`RwLock::read`] and [`RwLock::write`] that recover the guard of a poisoned lock.
pub trait RwLockExt<T: ?Sized> {
    /// Locks for reading, recovering from poisoning.
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T>;
    /// Locks for writing, recovering from poisoning.
    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::{LockExt, RwLockExt};
    use std::sync::{Arc, Mutex, RwLock};

    #[test]
    fn poisoned_locks_recover() {
        let mutex = Arc::new(Mutex::new(1));
        let rw = Arc::new(RwLock::new(2));
        let (m, r) = (mutex.clone(), rw.clone());
        let _ = std::thread::spawn(move || {
            let _m = m.lock_or_recover();
            let _r = r.write_or_recover();
            panic!("poison both");
        })
        .join();
        assert!(mutex.is_poisoned() && rw.is_poisoned());
        *mutex.lock_or_recover() += 1;
        *rw.write_or_recover() += 1;
        assert_eq!((*mutex.lock_or_recover(), *rw.read_or_recover()), (2, 3));
    }
}
