//! Who is writing: the actor recorded with imports, undos and single writes.
//!
//! The actor is set for the duration of a call on the calling thread ([`as_actor`]) rather
//! than passed to every write method: the server runs each store call in one blocking task,
//! the command line on its main thread, and the writes read it where they record their
//! change, inside their own transaction. Names: a user's e-mail (web session, login token),
//! `token:<name>` (a token made with `token create`), `cli:<OS user>` (command line).

use std::cell::RefCell;

thread_local! {
    static ACTOR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Run `f` with `actor` recorded as the author of its writes (then restore the previous one).
pub fn as_actor<T>(actor: &str, f: impl FnOnce() -> T) -> T {
    let before = ACTOR.with(|a| a.replace(Some(actor.to_string())));
    // Restored even when `f` panics, so a pooled thread never carries a stale actor.
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            ACTOR.with(|a| *a.borrow_mut() = prev);
        }
    }
    let _restore = Restore(before);
    f()
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
}
