//! The Demo broker's HTML: its authorize (consent) page and its error page. Self-contained:
//! no scripts, no remote resources.

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
