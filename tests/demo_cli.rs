//! The `keygrant demo-broker` subcommand of the app's binary: it prints its address, serves
//! the Demo broker's API, and refuses a bad port with a usage error.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use keygrant_demo::DEMO_CLIENT_ID;
#[test]
fn the_subcommand_prints_its_address_and_serves_the_api() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keygrant"))
        .args(["demo-broker", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("Keygrant Demo broker listening on ")
        .expect(&first)
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let rest: Vec<String> = lines.by_ref().take(4).map(|l| l.unwrap()).collect();
    assert!(
        rest.iter().any(|l| l.contains(DEMO_CLIENT_ID)),
        "prints the client ID: {rest:?}"
    );
    let resp = reqwest::blocking::Client::new()
        .get(format!("{base}customers/me/accounts"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401, "the API answers, and wants a token");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_bad_port_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_keygrant"))
        .args(["demo-broker", "--port", "http"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port needs a number"));
}
