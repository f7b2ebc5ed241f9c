//! Any bytes as a loopback request's query, a keygrant:// link or a pasted address: never a panic, and a
//! callback is accepted only with exactly one `state`, equal to the flow's.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/keygrant-core/src/oauth/callback.rs"]
mod callback;

const STATE: &str = "st4te-Of-the-flow";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // As a loopback query, and as a deep link (whatever url makes of it).
    let mut queries = vec![text.to_string()];
    if let Ok(link) = url::Url::parse(&format!("keygrant://callback?{text}")) {
        queries.push(link.query().unwrap_or_default().to_string());
    }
    if let Ok(link) = url::Url::parse(text) {
        queries.push(link.query().unwrap_or_default().to_string());
    }
    // As an address pasted by the user.
    if let Some(q) = callback::pasted_query(text) {
        queries.push(q);
    }
    for q in queries {
        if callback::parse_callback(&q, STATE).is_ok() {
            let states: Vec<String> = url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .collect();
            assert_eq!(states, [STATE], "accepted {q:?}");
        }
    }
});
