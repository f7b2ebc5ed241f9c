//! The IPC surface, generated from one table (`ipc_table.rs`): the invoke handler, the list of
//! command names, typed event emitters, and the TypeScript client the page imports
//! (`ui/src/bindings/commands.ts`), so no command or event is named by a hand-written string
//! on either side.

use keygrant_core::brokers::portfolio::AccountDetail;
use keygrant_core::brokers::{Account, BrokerKind, Environment};
use keygrant_core::doctor::Diagnosis;
use keygrant_core::handoff::{Snippet, SnippetKind};
use keygrant_core::oauth::waiting::SignInWaiting;
use keygrant_core::views::{AppState, ConnectRequest, GrantRequest, Notice, ProfileView};

macro_rules! ipc_table {
    (
        commands { $( $name:ident ( $( $arg:ident : $aty:ty ),* ) -> $ret:ty ; )* }
        events { $( $(#[$m:meta])* $event:ident : $ety:ty = $ename:literal ; )* }
    ) => {
        /// Every command's name, in the table's order.
        pub const COMMANDS: &[&str] = &[ $( stringify!($name) ),* ];

        /// The invoke handler for every command of the table.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![ $( crate::commands::$name ),* ]
        }

        /// Typed emitters, one per event of the table.
        pub mod emit {
            use super::*;
            $(
                $(#[$m])*
                pub fn $event<R: tauri::Runtime>(app: &tauri::AppHandle<R>, payload: &$ety) {
                    use tauri::Emitter;
                    if let Err(e) = app.emit($ename, payload) {
                        tracing::warn!(event = $ename, "could not emit: {e}");
                    }
                }
            )*
        }

        /// The TypeScript client for the page: `commands.<camelName>(args)` and
        /// `events.<camelName>(handler)`, typed by the ts-rs bindings.
        pub fn typescript() -> String {
            let mut ts = TsWriter::default();
            $(
                let args: Vec<(&str, String)> = vec![ $( (stringify!($arg), ts.ty::<$aty>()) ),* ];
                let ret = ts.ty::<$ret>();
                ts.command(stringify!($name), &args, &ret);
            )*
            $(
                let docs: Vec<String> = vec![ $( stringify!($m).to_string() ),* ];
                let payload = ts.ty::<$ety>();
                ts.event(stringify!($event), $ename, &payload, &docs);
            )*
            ts.finish()
        }
    };
}
include!("ipc_table.rs");

/// Builds `commands.ts`: the imports each type needs, then the two objects.
#[derive(Default)]
struct TsWriter {
    imports: std::collections::BTreeSet<String>,
    commands: String,
    events: String,
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl TsWriter {
    /// The TypeScript name of `T`, remembering the bindings it must import.
    fn ty<T: ts_rs::TS + 'static>(&mut self) -> String {
        /// Collects every exported type it is shown (a type, its fields' types, its generics).
        struct Collect<'a>(
            &'a ts_rs::Config,
            &'a mut std::collections::BTreeSet<String>,
        );
        impl ts_rs::TypeVisitor for Collect<'_> {
            fn visit<U: ts_rs::TS + 'static + ?Sized>(&mut self) {
                if let Some(dep) = ts_rs::Dependency::from_ty::<U>(self.0) {
                    self.1.insert(dep.ts_name);
                }
                U::visit_generics(self);
            }
        }
        let cfg = ts_rs::Config::from_env();
        let mut visitor = Collect(&cfg, &mut self.imports);
        ts_rs::TypeVisitor::visit::<T>(&mut visitor);
        T::name(&cfg)
    }

    fn command(&mut self, name: &str, args: &[(&str, String)], ret: &str) {
        let params: Vec<String> = args
            .iter()
            .map(|(a, t)| format!("{}: {t}", camel(a)))
            .collect();
        let names: Vec<String> = args.iter().map(|(a, _)| camel(a)).collect();
        let payload = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        self.commands.push_str(&format!(
            "  {}: ({}) => invoke<{ret}>(\"{name}\"{payload}),\n",
            camel(name),
            params.join(", ")
        ));
    }

    fn event(&mut self, name: &str, wire: &str, payload: &str, docs: &[String]) {
        for d in docs {
            // `doc = r" text"` as stringify! gives it: the text is between the quotes.
            let text = match (d.find('"'), d.rfind('"')) {
                (Some(a), Some(b)) if a < b => d[a + 1..b].trim(),
                _ => d.as_str(),
            };
            self.events.push_str(&format!("  // {text}\n"));
        }
        self.events.push_str(&format!(
            "  {}: (handler: (payload: {payload}) => void): Promise<UnlistenFn> =>\n    listen<{payload}>(\"{wire}\", (e) => handler(e.payload)),\n",
            camel(name)
        ));
    }

    fn finish(self) -> String {
        let mut out = String::from(
            "// Generated from src-tauri/ipc_table.rs by `cargo test`; do not edit.\n\
             import { invoke } from \"@tauri-apps/api/core\";\n\
             import { listen, type UnlistenFn } from \"@tauri-apps/api/event\";\n",
        );
        let body = format!("{}{}", self.commands, self.events);
        // Only the types the client names (a type's field types are the bindings' business).
        let named = |i: &str| {
            body.match_indices(i).any(|(at, _)| {
                let before = body[..at].chars().next_back();
                let after = body[at + i.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        };
        for i in self.imports.iter().filter(|i| named(i)) {
            out.push_str(&format!("import type {{ {i} }} from \"./{i}\";\n"));
        }
        out.push_str("\nexport const commands = {\n");
        out.push_str(&self.commands);
        out.push_str("};\n\nexport const events = {\n");
        out.push_str(&self.events);
        out.push_str("};\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `ui/src/bindings/commands.ts`; the test command fails when the committed file
    /// differs from what this writes.
    #[test]
    fn export_the_typescript_client() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings");
        std::fs::create_dir_all(&dir).unwrap();
        let ts = typescript();
        assert!(
            ts.contains("getState: () => invoke<AppState>(\"get_state\")"),
            "{ts}"
        );
        assert!(ts.contains("import type { ConnectRequest } from \"./ConnectRequest\";"));
        std::fs::write(dir.join("commands.ts"), ts).unwrap();
    }

    #[test]
    fn camel_case_names() {
        assert_eq!(camel("connect_with_grant"), "connectWithGrant");
        assert_eq!(camel("get_state"), "getState");
    }
}
