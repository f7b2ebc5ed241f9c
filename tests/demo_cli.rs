//! The `keygrant demo-broker` subcommand of the app's binary: it prints its address, serves
//! the Demo broker's API, switches on the faults named with `--fault`, and refuses a bad
//! port or an unknown fault with a message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use keygrant_demo::DEMO_CLIENT_ID;

#[test]
fn the_subcommand_prints_its_address_and_serves_the_api() {
    let (mut child, base, said) = start(&["--port", "0"]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(
        said.iter().any(|l| l.contains(DEMO_CLIENT_ID)),
        "prints the client ID: {said:?}"
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
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("invalid value 'http' for '--port"), "{said}");
}

/// Output into a pipe whose reader has gone (`| head` once it has its lines) ends the command
/// as Unix tools end, by SIGPIPE, with no panic about a broken pipe.
#[test]
fn output_into_a_closed_pipe_is_no_panic() {
    use std::os::unix::process::ExitStatusExt;
    for args in [
        &["completions", "bash"][..],
        &["demo-broker", "--list-faults"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_keygrant"))
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!said.contains("panicked"), "{args:?}: {said}");
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// Starts `keygrant demo-broker` with `args`; returns it and its base URL.
fn start(args: &[&str]) -> (std::process::Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keygrant"))
        .arg("demo-broker")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("Keygrant Demo broker listening on ")
        .expect(&first)
        .to_string();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        said.push(line);
        if done {
            break;
        }
    }
    (child, base, said)
}

#[test]
fn a_named_fault_is_switched_on_and_said() {
    let (mut child, base, said) = start(&["--fault", "forbidden", "--fault", "slow"]);
    assert!(
        said.iter()
            .any(|l| l.contains("fault on:") && l.contains("forbidden")),
        "{said:?}"
    );
    let resp = reqwest::blocking::Client::new()
        .get(format!("{base}customers/me/accounts"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403, "the forbidden switch is on");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_faults_are_listed_and_an_unknown_one_is_refused_with_the_list() {
    let out = Command::new(env!("CARGO_BIN_EXE_keygrant"))
        .args(["demo-broker", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout);
    for (name, _) in keygrant_demo::FAULTS {
        assert!(listed.contains(name), "{name} listed: {listed}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_keygrant"))
        .args(["demo-broker", "--fault", "no-such-fault"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("unknown fault") && said.contains("rate-limit"),
        "{said}"
    );
}
