//! The Demo broker's HTML: its authorize (consent) page and its error page. Self-contained:
//! no scripts, no remote resources. Also the consent page's request handling, the same in
//! every dialect but for a [`Consent`]'s names, checks and redirect.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, MethodRouter};
use url::Url;

use super::{decision_redirect, Dialect, Shared};

/// `s` with `& < > " '` replaced by HTML character references, safe in text and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f6fa;color:#1b2330;margin:0}\
main{max-width:460px;margin:64px auto;background:#fff;border-radius:12px;padding:32px;\
box-shadow:0 4px 24px rgba(0,0,0,.08)}h1{font-size:22px;margin:0 0 8px}p{line-height:1.5}\
.scopes{background:#f4f6fa;border-radius:8px;padding:12px 16px}.row{display:flex;gap:12px;margin-top:24px}\
button{flex:1;font-size:16px;padding:12px;border-radius:8px;border:1px solid #c9d1dd;background:#fff;cursor:pointer}\
button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}.tag{font-size:12px;color:#5b6878}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// The consent page: every authorize parameter travels on as a hidden field.
pub fn authorize(dialect: &str, action: &str, params: &[(String, String)], scope: &str) -> String {
    let hidden: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let scopes: String = scope
        .split_whitespace()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    layout(
        "Demo broker: authorize Keygrant",
        &format!(
            "<p class=\"tag\">Keygrant Demo broker ({} dialect)</p>\
             <h1>Allow this application to access your Demo accounts?</h1>\
             <p>The application asks for these scopes:</p><ul class=\"scopes\">{scopes}</ul>\
             <form method=\"post\" action=\"{}\" id=\"consent\">{hidden}\
             <div class=\"row\"><button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>\
             <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\" class=\"primary\">Approve</button>\
             </div></form>",
            escape(dialect),
            escape(action)
        ),
    )
}

pub fn error(message: &str) -> String {
    layout(
        "Demo broker: error",
        &format!(
            "<h1>This request can't be authorized</h1><p>{}</p>",
            escape(message)
        ),
    )
}

/// An authorize request's parameters (the query of the page, the form of the decision).
type Params = HashMap<String, String>;

/// The error page as a 400 response.
fn error_response(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(error(message))).into_response()
}

/// A dialect's authorize (consent) endpoint: what sets it apart from the other dialects'.
pub(crate) struct Consent {
    /// The dialect whose codes Approve issues (and whose redirect it builds).
    pub(crate) dialect: Dialect,
    /// The dialect's name on the page, e.g. `Charles Schwab`.
    pub(crate) name: &'static str,
    /// Where the page is served and its form posts back. Requests are counted under it, the
    /// decisions under `<path>#decision`.
    pub(crate) path: &'static str,
    /// The scope the page lists when the request names none.
    pub(crate) default_scope: &'static str,
    /// The dialect's checks on an authorize request: the redirect URI, or why it is refused.
    pub(crate) check: fn(&Shared, &Params) -> Result<Url, String>,
}

impl Consent {
    /// `GET` and `POST` on [`Consent::path`]: the page, and the user's decision.
    pub(crate) fn routes(&'static self) -> MethodRouter<Shared> {
        let page = move |State(shared): State<Shared>, Query(params): Query<Params>| async move {
            self.page(&shared, &params)
        };
        let decision = move |State(shared): State<Shared>, Form(params): Form<Params>| async move {
            self.decision(&shared, &params)
        };
        get(page).post(decision)
    }

    /// The consent page, every parameter a hidden field; the error page (400) for a request
    /// that fails the checks.
    fn page(&self, shared: &Shared, params: &Params) -> Response {
        shared.count(self.path);
        if let Err(message) = (self.check)(shared, params) {
            return error_response(&message);
        }
        let mut list: Vec<(String, String)> = params.clone().into_iter().collect();
        list.sort();
        let scope = params
            .get("scope")
            .map_or(self.default_scope, String::as_str);
        Html(authorize(self.name, self.path, &list, scope)).into_response()
    }

    /// Approve or Deny: the redirect [`decision_redirect`] builds, after the same checks as
    /// the page (the error page, 400, when they fail: no code).
    fn decision(&self, shared: &Shared, params: &Params) -> Response {
        shared.count(&format!("{}#decision", self.path));
        match (self.check)(shared, params) {
            Ok(redirect) => {
                Redirect::to(decision_redirect(shared, self.dialect, redirect, params).as_str())
                    .into_response()
            }
            Err(message) => error_response(&message),
        }
    }
}
