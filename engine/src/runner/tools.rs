//! The built-in file tools an agent may call, confined to the task's own working directory.
//!
//! Paths are relative to the task directory. Absolute paths, `..` components and symlinks that
//! lead outside it are refused, so one task can neither read another's files nor the host's.

use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

use crate::providers::ToolSpec;

/// Largest file a tool reads or writes.
pub const MAX_FILE_BYTES: usize = 512 * 1024;
/// Most entries `list_files` returns.
pub const MAX_LIST: usize = 500;

/// What a tool call did to a file, for file-change tracking.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEffect {
    /// Path relative to the working directory.
    pub path: String,
    /// `read`, `created`, `modified` or `deleted`.
    pub kind: &'static str,
    /// Content before (for modifications).
    pub before: Option<String>,
    /// Content after (for reads, creations and modifications).
    pub after: Option<String>,
}

/// The result of one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// Text returned to the model.
    pub output: String,
    /// Whether the call succeeded.
    pub ok: bool,
    /// The file it touched, if any.
    pub effect: Option<FileEffect>,
}

impl ToolOutcome {
    fn error(message: impl Into<String>) -> Self {
        Self {
            output: format!("error: {}", message.into()),
            ok: false,
            effect: None,
        }
    }
}

/// The tool descriptions offered to models.
pub fn specs() -> Vec<ToolSpec> {
    let path = json!({"type": "string", "description": "Path relative to the task directory"});
    vec![
        ToolSpec {
            name: "list_files".into(),
            description: "List the files under a directory of the task (recursively).".into(),
            parameters: json!({"type": "object", "properties": {"path": path}, "required": []}),
        },
        ToolSpec {
            name: "read_file".into(),
            description: "Read a text file of the task.".into(),
            parameters: json!({"type": "object", "properties": {"path": path}, "required": ["path"]}),
        },
        ToolSpec {
            name: "write_file".into(),
            description: "Create or replace a text file of the task.".into(),
            parameters: json!({"type": "object", "properties": {
                "path": path,
                "content": {"type": "string", "description": "The complete new content"},
            }, "required": ["path", "content"]}),
        },
    ]
}

/// A task's working directory.
#[derive(Debug, Clone)]
pub struct Workdir {
    root: PathBuf,
}

impl Workdir {
    /// Creates (if needed) and opens the directory.
    pub async fn open(root: PathBuf) -> std::io::Result<Self> {
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&root)?;
            Ok(Self {
                root: std::fs::canonicalize(&root)?,
            })
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// The absolute root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a relative path inside the directory, refusing escapes.
    pub fn resolve(&self, raw: &str) -> Result<(PathBuf, String), String> {
        let raw = raw.trim();
        let rel = Path::new(if raw.is_empty() { "." } else { raw });
        let mut clean = PathBuf::new();
        for part in rel.components() {
            match part {
                Component::Normal(p) => clean.push(p),
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(format!("path {raw:?} leaves the task directory"));
                }
            }
        }
        let full = self.root.join(&clean);
        // A symlink inside the directory could still point outside: check the real path of the
        // deepest existing ancestor.
        let mut probe = full.clone();
        while !probe.exists() {
            if !probe.pop() {
                break;
            }
        }
        if let Ok(real) = probe.canonicalize()
            && !real.starts_with(&self.root)
        {
            return Err(format!("path {raw:?} leaves the task directory"));
        }
        let display = clean.to_string_lossy().replace('\\', "/");
        Ok((
            full,
            if display.is_empty() {
                ".".into()
            } else {
                display
            },
        ))
    }

    /// Runs one tool call.
    ///
    /// On a blocking thread, in one hop: the path checks and file operations are blocking
    /// system calls, and one `tokio::fs` call per operation cost a thread hand-over each.
    pub async fn call(&self, name: &str, args: &Value) -> ToolOutcome {
        let (dir, name, args) = (self.clone(), name.to_owned(), args.clone());
        tokio::task::spawn_blocking(move || dir.call_blocking(&name, &args))
            .await
            .unwrap_or_else(|e| ToolOutcome::error(format!("the tool call stopped: {e}")))
    }

    fn call_blocking(&self, name: &str, args: &Value) -> ToolOutcome {
        let path = args["path"].as_str().unwrap_or(".");
        match name {
            "list_files" => self.list(path),
            "read_file" => self.read(path),
            "write_file" => match args["content"].as_str() {
                Some(content) => self.write(path, content),
                None => ToolOutcome::error("write_file needs a string \"content\""),
            },
            other => ToolOutcome::error(format!("unknown tool {other:?}")),
        }
    }

    fn list(&self, path: &str) -> ToolOutcome {
        let (dir, _) = match self.resolve(path) {
            Ok(p) => p,
            Err(e) => return ToolOutcome::error(e),
        };
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.map_while(std::result::Result::ok) {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let rel = entry
                    .path()
                    .strip_prefix(&self.root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if kind.is_dir() {
                    stack.push(entry.path());
                } else if kind.is_file() {
                    out.push(rel);
                }
                if out.len() >= MAX_LIST {
                    break;
                }
            }
        }
        out.sort();
        ToolOutcome {
            output: if out.is_empty() {
                "(no files)".into()
            } else {
                out.join("\n")
            },
            ok: true,
            effect: None,
        }
    }

    fn read(&self, path: &str) -> ToolOutcome {
        let (full, rel) = match self.resolve(path) {
            Ok(p) => p,
            Err(e) => return ToolOutcome::error(e),
        };
        match std::fs::read(&full) {
            Ok(bytes) if bytes.len() > MAX_FILE_BYTES => {
                ToolOutcome::error(format!("{rel} is larger than {MAX_FILE_BYTES} bytes"))
            }
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => ToolOutcome {
                    output: text.clone(),
                    ok: true,
                    effect: Some(FileEffect {
                        path: rel,
                        kind: "read",
                        before: None,
                        after: Some(text),
                    }),
                },
                Err(_) => ToolOutcome::error(format!("{rel} is not a text file")),
            },
            Err(_) => ToolOutcome::error(format!("{rel} does not exist")),
        }
    }

    fn write(&self, path: &str, content: &str) -> ToolOutcome {
        if content.len() > MAX_FILE_BYTES {
            return ToolOutcome::error(format!("content is larger than {MAX_FILE_BYTES} bytes"));
        }
        let (full, rel) = match self.resolve(path) {
            Ok(p) => p,
            Err(e) => return ToolOutcome::error(e),
        };
        if rel == "." {
            return ToolOutcome::error("write_file needs a file path");
        }
        let before = std::fs::read_to_string(&full).ok();
        if let Some(parent) = full.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            return ToolOutcome::error(format!("cannot create the directory: {e}"));
        }
        if let Err(e) = std::fs::write(&full, content) {
            return ToolOutcome::error(format!("cannot write {rel}: {e}"));
        }
        let kind = if before.is_some() {
            "modified"
        } else {
            "created"
        };
        ToolOutcome {
            output: format!("wrote {} bytes to {rel}", content.len()),
            ok: true,
            effect: Some(FileEffect {
                path: rel,
                kind,
                before,
                after: Some(content.to_owned()),
            }),
        }
    }
}

/// A line diff of two file versions: `(' ' | '+' | '-', line)`, for the diff viewer.
pub fn diff(before: &str, after: &str) -> Vec<(char, String)> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .map(|change| {
            let tag = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            (tag, change.value().trim_end_matches('\n').to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_reads_lists_and_refuses_escapes() {
        let tmp = std::env::temp_dir().join(format!("fleetdeck-tools-{}", crate::new_id()));
        let wd = Workdir::open(tmp.clone()).await.unwrap();
        let w = wd
            .call(
                "write_file",
                &json!({"path": "src/a.rs", "content": "fn a() {}"}),
            )
            .await;
        assert!(w.ok);
        assert_eq!(w.effect.as_ref().unwrap().kind, "created");
        let w2 = wd
            .call(
                "write_file",
                &json!({"path": "src/a.rs", "content": "fn b() {}"}),
            )
            .await;
        assert_eq!(
            w2.effect.as_ref().unwrap().before.as_deref(),
            Some("fn a() {}")
        );
        assert_eq!(
            wd.call("read_file", &json!({"path": "src/a.rs"}))
                .await
                .output,
            "fn b() {}"
        );
        assert_eq!(wd.call("list_files", &json!({})).await.output, "src/a.rs");
        for bad in ["../x", "/etc/passwd", "src/../../x"] {
            let out = wd.call("read_file", &json!({"path": bad})).await;
            assert!(!out.ok && out.output.contains("leaves"), "{bad}: {out:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", tmp.join("link")).unwrap();
            let out = wd
                .call("read_file", &json!({"path": "link/hostname"}))
                .await;
            assert!(!out.ok, "{out:?}");
        }
        std::fs::remove_dir_all(tmp).unwrap();
    }
}
