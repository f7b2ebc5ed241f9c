// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

const USAGE: &str = "Usage:
  keygrant                         open the app
  keygrant demo-broker [--port N]  run the Demo broker alone on 127.0.0.1 and print its address
  keygrant --version";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo-broker") => {
            let port = match args.get(1).map(String::as_str) {
                None => 0,
                Some("--port") => match args.get(2).and_then(|p| p.parse::<u16>().ok()) {
                    Some(p) => p,
                    None => exit_usage("--port needs a number from 0 to 65535"),
                },
                Some(other) => exit_usage(&format!("unknown option {other}")),
            };
            keygrant::init_logging();
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            if let Err(e) = rt.block_on(keygrant_demo::run_standalone(port)) {
                eprintln!("keygrant demo-broker: {e}");
                std::process::exit(1);
            }
        }
        Some("--version") | Some("-V") => println!("keygrant {}", env!("CARGO_PKG_VERSION")),
        Some("--help") | Some("-h") => println!("{USAGE}"),
        _ => keygrant::run(),
    }
}

fn exit_usage(msg: &str) -> ! {
    eprintln!("keygrant: {msg}\n{USAGE}");
    std::process::exit(2);
}
