//! Registry credentials where docker, podman, skopeo and crane find them.
//!
//! The files, in order, the first that has an entry for the registry winning:
//! 1. `$REGISTRY_AUTH_FILE` (podman, skopeo, buildah), else `$XDG_RUNTIME_DIR/containers/auth.json`;
//! 2. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (docker, crane).
//!
//! In a file: `credHelpers` naming a helper for the registry, then `auths` (`auth`: base64 of
//! `user:password`, or `username` and `password`), then `credsStore` (a helper for every
//! registry). A helper is the program `docker-credential-NAME`, run with `get` and the registry
//! on stdin; it answers `{"Username": ..., "Secret": ...}`. Keys of `auths` may be a bare
//! `host[:port]` or a URL (`https://index.docker.io/v1/`); Docker Hub answers to `docker.io`,
//! `index.docker.io` and `registry-1.docker.io` alike.
//!
//! The password never appears in an error, a log line or `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::{Error, Result};

/// A user name and password for one registry, and where they were found.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    password: String,
    /// Where they came from (`~/.docker/config.json`, `docker-credential-pass`).
    pub from: String,
}

impl Credentials {
    /// Credentials given by the caller (tests, flags).
    pub fn new(username: &str, password: &str, from: &str) -> Credentials {
        Credentials {
            username: username.to_string(),
            password: password.to_string(),
            from: from.to_string(),
        }
    }

    /// The password, for the one request header that needs it.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// The auth files to look in, in order (see the module doc), from the environment.
pub fn build_auth_files(env: impl Fn(&str) -> Option<String>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    match env("REGISTRY_AUTH_FILE").filter(|v| !v.is_empty()) {
        Some(file) => files.push(PathBuf::from(file)),
        None => {
            if let Some(dir) = env("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
                files.push(Path::new(&dir).join("containers").join("auth.json"));
            }
        }
    }
    match env("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(dir) => files.push(Path::new(&dir).join("config.json")),
        None => {
            if let Some(home) = home {
                files.push(home.join(".docker").join("config.json"));
            }
        }
    }
    files
}

/// The names a registry host goes by in auth files.
fn aliases(registry: &str) -> Vec<&str> {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            vec!["docker.io", "index.docker.io", "registry-1.docker.io"]
        }
        other => vec![other],
    }
}

/// `host[:port]` of an `auths` key (`https://host/v1/` or `host`).
fn key_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// Finds the credentials for `registry` (`host[:port]`) in `files`; `None` means anonymous.
pub fn collect_credentials(registry: &str, files: &[PathBuf]) -> Result<Option<Credentials>> {
    let names = aliases(registry);
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(Error::Credentials {
                    from: file.display().to_string(),
                    reason: err.to_string(),
                })
            }
        };
        let parsed: AuthFile = serde_json::from_str(&text).map_err(|err| Error::Credentials {
            from: file.display().to_string(),
            reason: format!("not an auth file: {err}"),
        })?;
        if let Some(helper) = parsed
            .cred_helpers
            .iter()
            .find(|(key, _)| names.contains(&key_host(key)))
            .map(|(_, helper)| helper)
        {
            if let Some(found) = run_helper(helper, registry)? {
                return Ok(Some(found));
            }
        }
        if let Some((_, entry)) = parsed
            .auths
            .iter()
            .find(|(key, _)| names.contains(&key_host(key)))
        {
            return decode_entry(entry, file).map(Some);
        }
        if let Some(helper) = &parsed.creds_store {
            if let Some(found) = run_helper(helper, registry)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

fn decode_entry(entry: &AuthEntry, file: &Path) -> Result<Credentials> {
    let from = file.display().to_string();
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| Error::Credentials {
                from: from.clone(),
                reason: "its `auth` is not base64 of user:password".to_string(),
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| Error::Credentials {
            from: from.clone(),
            reason: "its `auth` is not base64 of user:password".to_string(),
        })?;
        return Ok(Credentials::new(user, password, &from));
    }
    match (&entry.username, &entry.password) {
        (Some(user), Some(password)) => Ok(Credentials::new(user, password, &from)),
        _ => Err(Error::Credentials {
            from,
            reason: "its entry has neither `auth` nor `username` and `password`".to_string(),
        }),
    }
}

/// Runs `docker-credential-HELPER get` for `registry`; `None` when it has nothing for it.
fn run_helper(helper: &str, registry: &str) -> Result<Option<Credentials>> {
    let program = format!("docker-credential-{helper}");
    let fail = |reason: String| Error::Credentials {
        from: program.clone(),
        reason,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| fail(format!("cannot run it: {err}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(registry.as_bytes())
            .map_err(|err| fail(format!("cannot write to it: {err}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| fail(format!("cannot read its answer: {err}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // The protocol's answer for "nothing stored" (docker's credentials.errCredentialsNotFound).
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let first_line = |text: &str| {
            text.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        };
        return Err(fail(format!(
            "it failed ({}): {}",
            output.status,
            first_line(&String::from_utf8_lossy(&output.stderr))
        )));
    }
    let answer: HelperAnswer = serde_json::from_str(&stdout)
        .map_err(|_| fail("its answer is not the credential helpers' JSON".to_string()))?;
    Ok(Some(Credentials::new(
        &answer.username,
        &answer.secret,
        &program,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_the_order_podman_and_docker_use() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        let home = Path::new("/home/u");
        assert_eq!(
            build_auth_files(env(&[]), Some(home)),
            [PathBuf::from("/home/u/.docker/config.json")]
        );
        assert_eq!(
            build_auth_files(
                env(&[
                    ("REGISTRY_AUTH_FILE", "/a.json"),
                    ("XDG_RUNTIME_DIR", "/run/user/1"),
                    ("DOCKER_CONFIG", "/d")
                ]),
                Some(home)
            ),
            [PathBuf::from("/a.json"), PathBuf::from("/d/config.json")]
        );
        assert_eq!(
            build_auth_files(env(&[("XDG_RUNTIME_DIR", "/run/user/1")]), None),
            [PathBuf::from("/run/user/1/containers/auth.json")]
        );
    }

    #[test]
    fn entries_by_host_url_or_docker_hub_alias() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(
            &file,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
                "registry.example:5000":{"username":"u2","password":"p2"}}}"#,
        )
        .unwrap();
        let files = [file];
        let hub = collect_credentials("docker.io", &files).unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.password()), ("user", "pass"));
        let other = collect_credentials("registry.example:5000", &files)
            .unwrap()
            .unwrap();
        assert_eq!(other.username, "u2");
        assert!(collect_credentials("quay.io", &files).unwrap().is_none());
        assert!(!format!("{other:?}").contains("p2"));
    }

    #[test]
    fn a_missing_helper_is_said_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        std::fs::write(&file, r#"{"credHelpers":{"r.example":"nosuchhelper-kc"}}"#).unwrap();
        let err = collect_credentials("r.example", &[file]).unwrap_err();
        assert!(
            err.to_string()
                .contains("docker-credential-nosuchhelper-kc"),
            "{err}"
        );
    }
}
