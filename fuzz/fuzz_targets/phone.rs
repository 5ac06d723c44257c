//! Phone normalisation and the routing key: no panic; a normalised number is a fixed
//! point (normalising its E.164 form gives it back) and the routing key of what is stored
//! is the E.164 form itself.
#![no_main]

use clientele_core::ident::phone::{fast_key, is_foreign, last9, normalise, Phone};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let key = fast_key(raw);
    if let Some(k) = &key {
        let _ = is_foreign(k);
        let _ = last9(k);
    }
    match normalise(raw) {
        Ok(Phone::E164(e)) => {
            assert!(
                e.starts_with('+') && e[1..].bytes().all(|b| b.is_ascii_digit()),
                "{e}"
            );
            assert!((4..=16).contains(&e.len()), "{raw:?} → {e}");
            assert_eq!(normalise(&e), Ok(Phone::E164(e.clone())), "{raw:?} → {e}");
            assert_eq!(fast_key(&e).as_deref(), Some(e.as_str()), "{raw:?}");
            // What routing computes for the number as written is what is stored.
            assert_eq!(
                key.as_deref(),
                Some(e.as_str()),
                "{raw:?}: fast_key ≠ normalise"
            );
        }
        Ok(Phone::Short(s)) => {
            assert_eq!(normalise(&s), Ok(Phone::Short(s.clone())), "{raw:?}");
        }
        Err(_) => {}
    }
});
