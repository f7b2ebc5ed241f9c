//! Reading a redirect back to Keygrant: the query of a loopback request or of a
//! `keygrant://callback` link. Pure (it depends on nothing but `url`), so the fuzz target in
//! `fuzz/` compiles it alone.
//!
//! The rule: exactly one `state`, equal to the flow's; then an `error` (with an optional
//! `error_description`) or a `code`. Anything else is refused and changes nothing.

/// What the broker sent back to the redirect URI.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code (RFC 6749 section 4.1.2).
    Code(String),
    /// An error response (RFC 6749 section 4.1.2.1).
    Error {
        /// The `error` code, e.g. `access_denied`.
        error: String,
        /// The `error_description`, when the broker sent one.
        description: Option<String>,
    },
}

/// Why a redirect was not acted on.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `state`, several, or not the flow's: not this sign-in's answer.
    WrongState,
    /// The right `state` but neither a `code` nor an `error`.
    Incomplete,
}

/// Reads `query` (without the `?`) for the flow whose `state` is `expected_state`.
pub fn parse_callback(query: &str, expected_state: &str) -> Result<Callback, Refusal> {
    let mut state = None;
    let mut states = 0;
    let (mut code, mut error, mut description) = (None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "state" => {
                states += 1;
                state = Some(v.into_owned());
            }
            "code" if code.is_none() => code = Some(v.into_owned()),
            "error" if error.is_none() => error = Some(v.into_owned()),
            "error_description" if description.is_none() => description = Some(v.into_owned()),
            _ => {}
        }
    }
    // An empty expected state would match a link that has `state=`: never valid.
    if states != 1 || expected_state.is_empty() || state.as_deref() != Some(expected_state) {
        return Err(Refusal::WrongState);
    }
    match (error, code) {
        (Some(error), _) => Ok(Callback::Error { error, description }),
        (None, Some(code)) if !code.is_empty() => Ok(Callback::Code(code)),
        _ => Err(Refusal::Incomplete),
    }
}

/// The query of an address the user pasted from the browser's address bar after approving:
/// a whole URL (`http://localhost:8000/callback?code=…&state=…`, an `https://` one a browser
/// upgraded it to, a `keygrant://callback?…` link), or just its query, with or without `?`.
/// `None` when the text holds no query at all. Surrounding whitespace and quotes are ignored.
pub fn pasted_query(text: &str) -> Option<String> {
    let text = text
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '<' || c == '>');
    if text.is_empty() {
        return None;
    }
    if let Ok(url) = url::Url::parse(text) {
        // A page that failed to load may still show the address; an answer in the fragment
        // (response_mode=fragment) is read the same way.
        return url
            .query()
            .or(url.fragment())
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
    }
    let query = match text.split_once('?') {
        Some((_, q)) => q,
        None if text.contains('=') => text,
        None => return None,
    };
    let query = query.split('#').next().unwrap_or_default();
    (!query.is_empty()).then(|| query.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_matching_state_with_a_code_or_error_is_accepted() {
        assert_eq!(
            parse_callback("code=abc&state=s1", "s1"),
            Ok(Callback::Code("abc".into()))
        );
        assert_eq!(
            parse_callback(
                "error=access_denied&error_description=No%20thanks&state=s1",
                "s1"
            ),
            Ok(Callback::Error {
                error: "access_denied".into(),
                description: Some("No thanks".into())
            })
        );
        for bad in [
            "code=abc",
            "code=abc&state=s2",
            "code=abc&state=s1&state=s1",
            "state=s1&code=abc&state=x",
            "state=",
        ] {
            assert_eq!(parse_callback(bad, "s1"), Err(Refusal::WrongState), "{bad}");
        }
        assert_eq!(parse_callback("state=", ""), Err(Refusal::WrongState));
        assert_eq!(parse_callback("state=s1", "s1"), Err(Refusal::Incomplete));
        assert_eq!(
            parse_callback("state=s1&code=", "s1"),
            Err(Refusal::Incomplete)
        );
    }

    #[test]
    fn an_encoded_code_is_handed_over_decoded() {
        // Charles Schwab's codes end in an encoded "@" (docs/brokers.md#charles-schwab): the
        // code exchanged is the decoded one, which the form body encodes again once.
        assert_eq!(
            parse_callback("code=C0.b2F1dGgy.AbC-_x%40&session=5f2e&state=s1", "s1"),
            Ok(Callback::Code("C0.b2F1dGgy.AbC-_x@".into()))
        );
        assert_eq!(
            parse_callback("state=s1&code=AbC%2Fd%2Be%3D%40", "s1"),
            Ok(Callback::Code("AbC/d+e=@".into()))
        );
        // A literal "@" (a browser that did not encode it) reads the same.
        assert_eq!(
            parse_callback("code=AbC@&state=s1", "s1"),
            Ok(Callback::Code("AbC@".into()))
        );
        let pasted =
            pasted_query("https://127.0.0.1:8182/?code=AbC%40&session=x&state=s1").unwrap();
        assert_eq!(
            parse_callback(&pasted, "s1"),
            Ok(Callback::Code("AbC@".into()))
        );
    }

    #[test]
    fn a_pasted_address_gives_its_query_whatever_form_it_was_copied_in() {
        let q = Some("code=abc&state=s1".to_string());
        for text in [
            "http://localhost:8000/callback?code=abc&state=s1",
            "  https://localhost:8000/callback?code=abc&state=s1\n",
            "\"http://127.0.0.1:8000/?code=abc&state=s1\"",
            "keygrant://callback?code=abc&state=s1",
            "localhost:8000/callback?code=abc&state=s1",
            "?code=abc&state=s1",
            "code=abc&state=s1",
            "http://localhost:8000/callback#code=abc&state=s1",
            "<http://localhost:8000/callback?code=abc&state=s1#top>",
        ] {
            assert_eq!(pasted_query(text), q, "{text}");
        }
        for nothing in [
            "",
            "   ",
            "http://localhost:8000/callback",
            "hello",
            "http://x/?",
        ] {
            assert_eq!(pasted_query(nothing), None, "{nothing}");
        }
    }
}
