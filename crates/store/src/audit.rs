//! Who is writing: the actor recorded with imports, undos and single writes.
//!
//! The actor is set for the duration of a call on the calling thread ([`as_actor`]) rather
//! than passed to every write method: the server runs each store call in one blocking task,
//! the command line on its main thread, and the writes read it where they record their
//! change, inside their own transaction. Names: a user's e-mail (web session, login token),
//! `token:<name>` (a token made with `token create`), `cli:<OS user>` (command line).
//!
//! The web upload an import is made from travels the same way ([`from_upload`]): the import
//! records it on its row in the same transaction, so that the history can link to the
//! upload's report however the import ends.

use std::cell::RefCell;
use std::thread::LocalKey;

thread_local! {
    static ACTOR: RefCell<Option<String>> = const { RefCell::new(None) };
    static UPLOAD: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Run `f` with `slot` set to `value`, then restore what it held.
fn scoped<T>(
    slot: &'static LocalKey<RefCell<Option<String>>>,
    value: &str,
    f: impl FnOnce() -> T,
) -> T {
    let before = slot.with(|a| a.replace(Some(value.to_string())));
    // Restored even when `f` panics, so a pooled thread never carries a stale value.
    struct Restore(&'static LocalKey<RefCell<Option<String>>>, Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.1.take();
            self.0.with(|a| *a.borrow_mut() = prev);
        }
    }
    let _restore = Restore(slot, before);
    f()
}

/// Run `f` with `actor` recorded as the author of its writes (then restore the previous one).
pub fn as_actor<T>(actor: &str, f: impl FnOnce() -> T) -> T {
    scoped(&ACTOR, actor, f)
}

/// Run `f` with `upload` (a web upload's id) recorded as the file its import is made from.
pub fn from_upload<T>(upload: &str, f: impl FnOnce() -> T) -> T {
    scoped(&UPLOAD, upload, f)
}

/// The web upload of the current call's import, if it is one.
pub fn upload() -> Option<String> {
    UPLOAD.with(|u| u.borrow().clone())
}

/// The actor of the current call; `unknown` when none was set (a write the audit cannot
/// attribute, which would be a defect of the caller).
pub fn actor() -> String {
    ACTOR.with(|a| a.borrow().clone().unwrap_or_else(|| "unknown".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_is_scoped() {
        assert_eq!(actor(), "unknown");
        as_actor("a@x.fr", || {
            assert_eq!(actor(), "a@x.fr");
            as_actor("token:pbx", || assert_eq!(actor(), "token:pbx"));
            assert_eq!(actor(), "a@x.fr");
        });
        assert_eq!(actor(), "unknown");
    }

    #[test]
    fn upload_is_scoped() {
        assert_eq!(upload(), None);
        as_actor("a@x.fr", || {
            from_upload("abc", || {
                assert_eq!(upload().as_deref(), Some("abc"));
                assert_eq!(actor(), "a@x.fr");
            })
        });
        assert_eq!(upload(), None);
    }
}
