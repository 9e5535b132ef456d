//! Chat templates: a model folder's own Jinja template (`chat_template` of
//! `tokenizer_config.json`, or `chat_template.jinja`), rendered with `minijinja` as
//! transformers' `apply_chat_template` renders it, and the end-of-turn token it writes.
//!
//! The one definition of how a template is read and rendered: the checker reads it (a
//! `chat` on a model without one is an error at the call), the plan embeds it, and the
//! runtime renders the prompt of each `chat` call with it.
//!
//! Rendering follows transformers' conventions: the variables `messages` (a list of
//! `{role, content}`), `add_generation_prompt` (`true` for `chat`), `bos_token` and
//! `eos_token` (from `tokenizer_config.json`), the function `raise_exception(message)`, the
//! `tojson` filter, Jinja's `trim_blocks` and `lstrip_blocks`, and the Python string
//! methods templates call (`.strip()`, `.startswith(…)`: `minijinja-contrib`'s pycompat).

use std::path::Path;

use minijinja::{Environment, Error, ErrorKind, Value};
use serde::{Deserialize, Serialize};

/// A model's chat template and the special-token texts it may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTemplate {
    /// The Jinja source.
    pub template: String,
    /// `bos_token` of `tokenizer_config.json` (empty when it sets none).
    #[serde(default)]
    pub bos_token: String,
    /// `eos_token` of `tokenizer_config.json` (empty when it sets none).
    #[serde(default)]
    pub eos_token: String,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The message's text.
    pub content: String,
}

/// Text marking the probe reply that [`ChatTemplate::end_of_turn`] looks for.
const PROBE_REPLY: &str = "agentc-probe-reply";

impl ChatTemplate {
    /// Reads the chat template of the model folder `dir`: `chat_template` of
    /// `tokenizer_config.json` (a string, or a list of `{name, template}` of which `default`
    /// is taken), else `chat_template.jinja`. `Ok(None)` when the folder has neither; an
    /// error names the file and what is wrong with it (unreadable, not JSON, a template that
    /// does not parse).
    pub fn from_model_dir(dir: &Path) -> Result<Option<ChatTemplate>, String> {
        let config_path = dir.join("tokenizer_config.json");
        let config: serde_json::Value = match read_regular(&config_path)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", config_path.display()))?,
            None => serde_json::Value::Null,
        };
        let token = |key: &str| -> String {
            match config.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                // An AddedToken written out: {"content": "<s>", ...}.
                Some(serde_json::Value::Object(o)) => o.get("content").and_then(|c| c.as_str()).unwrap_or("").to_string(),
                _ => String::new(),
            }
        };
        let template = match config.get("chat_template") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Array(named)) => {
                let default = named.iter().find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"));
                let found = default.and_then(|t| t.get("template")).and_then(|t| t.as_str());
                match found {
                    Some(t) => Some(t.to_string()),
                    None => return Err(format!("{}: `chat_template` is a list without a `default` template", config_path.display())),
                }
            }
            Some(serde_json::Value::Null) | None => None,
            Some(_) => return Err(format!("{}: `chat_template` is not text", config_path.display())),
        };
        let template = match template {
            Some(t) => t,
            None => match read_regular(&dir.join("chat_template.jinja"))? {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        let chat = ChatTemplate { template, bos_token: token("bos_token"), eos_token: token("eos_token") };
        chat.check().map_err(|e| format!("the chat template of {}: {e}", dir.display()))?;
        Ok(Some(chat))
    }

    /// Errors when the template does not parse.
    pub fn check(&self) -> Result<(), String> {
        environment().template_from_str(&self.template).map(|_| ()).map_err(|e| describe(&e))
    }

    /// The prompt of a conversation: the template rendered with `messages`,
    /// `add_generation_prompt` and the special-token texts. A template's
    /// `raise_exception(…)` (a role it refuses, say) is an error with its message.
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String, String> {
        let env = environment();
        let template = env.template_from_str(&self.template).map_err(|e| describe(&e))?;
        let context = minijinja::context! {
            messages => Value::from_serialize(messages),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        };
        template.render(context).map_err(|e| describe(&e))
    }

    /// The special token the template writes right after an assistant's message (the
    /// end-of-turn token: `<|im_end|>`, `<|eot_id|>`, `</s>`), found by rendering a probe
    /// conversation and matching the longest of `special` (the tokenizer's special tokens)
    /// that follows the reply. `None` when the template writes none there.
    pub fn end_of_turn(&self, special: &[String]) -> Option<String> {
        let messages = [
            Message { role: "user".into(), content: "agentc-probe-question".into() },
            Message { role: "assistant".into(), content: PROBE_REPLY.into() },
        ];
        let rendered = self.render(&messages, false).ok()?;
        let after = &rendered[rendered.find(PROBE_REPLY)? + PROBE_REPLY.len()..];
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        special.iter().filter(|t| !t.is_empty() && after.starts_with(t.as_str())).max_by_key(|t| t.len()).cloned()
    }
}

/// The environment every template is rendered in (transformers' settings).
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, message))
    });
    env
}

/// One line: the error and, when minijinja gives one, its line in the template.
fn describe(error: &Error) -> String {
    let mut text = match error.kind() {
        ErrorKind::InvalidOperation => error.detail().unwrap_or("invalid operation").to_string(),
        _ => {
            // minijinja names the template `<string>`; the line is added below.
            let text = error.to_string();
            match text.find(" (in <string>") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    };
    if let Some(line) = error.line() {
        text = format!("{text} (template line {line})");
    }
    text.replace('\n', " ")
}

/// The text of a file, `None` when it does not exist; a FIFO or device is refused (a read
/// would block).
fn read_regular(path: &Path) -> Result<Option<String>, String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
        Ok(m) if !m.is_file() => Err(format!("{}: not a regular file", path.display())),
        Ok(_) => std::fs::read_to_string(path).map(Some).map_err(|e| format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chatml() -> ChatTemplate {
        ChatTemplate {
            template: "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'].strip() + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}".into(),
            bos_token: String::new(),
            eos_token: "<|im_end|>".into(),
        }
    }

    fn msg(role: &str, content: &str) -> Message {
        Message { role: role.into(), content: content.into() }
    }

    #[test]
    fn renders_chatml_with_python_string_methods() {
        let out = chatml().render(&[msg("system", " be brief "), msg("user", "hi")], true).unwrap();
        assert_eq!(out, "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn finds_the_end_of_turn_token() {
        let special = ["<|im_start|>".to_string(), "<|im_end|>".to_string()];
        assert_eq!(chatml().end_of_turn(&special).as_deref(), Some("<|im_end|>"));
        assert_eq!(chatml().end_of_turn(&[]), None);
    }

    #[test]
    fn raise_exception_is_an_error_with_its_message() {
        let t = ChatTemplate {
            template: "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}".into(),
            bos_token: String::new(),
            eos_token: String::new(),
        };
        assert_eq!(t.render(&[msg("assistant", "x")], true).unwrap_err(), "Conversations must start with a user message (template line 1)");
        assert_eq!(t.render(&[msg("user", "x")], true).unwrap(), "");
    }

    fn tiny_llama() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/tiny-llama")
    }

    /// The tiny Llama's template (tokenizer_config.json) renders every reference
    /// conversation exactly as transformers' `apply_chat_template` did, and the prompt
    /// tokenizes (without added special tokens) to its ids (tools/gen_tiny_models.py).
    #[test]
    fn tiny_llama_renders_as_apply_chat_template() {
        let chat = ChatTemplate::from_model_dir(&tiny_llama()).unwrap().expect("tiny-llama has a chat template");
        assert_eq!((chat.bos_token.as_str(), chat.eos_token.as_str()), ("<s>", "</s>"));
        let tok = crate::tokenizer::Tokenizer::from_model_dir(&tiny_llama()).unwrap();
        let text = std::fs::read_to_string(tiny_llama().join("reference.json")).unwrap();
        let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
        let chats = reference["chat"].as_array().unwrap();
        assert!(!chats.is_empty());
        for case in chats {
            let messages: Vec<Message> = case["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| msg(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
                .collect();
            let prompt = chat.render(&messages, true).unwrap();
            assert_eq!(prompt, case["prompt"].as_str().unwrap());
            let ids: Vec<u32> = case["input_ids"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as u32).collect();
            assert_eq!(tok.encode_with(&prompt, false).unwrap(), ids);
        }
        let special: Vec<String> = tok.special_tokens().into_iter().map(|(_, t)| t).collect();
        assert_eq!(chat.end_of_turn(&special).as_deref(), Some("</s>"));
        let refused = chat.render(&[msg("tool", "x")], true).unwrap_err();
        assert_eq!(refused, "Unknown role: tool (template line 1)");
    }

    #[test]
    fn a_folder_without_a_template_has_none() {
        let dir = tiny_llama().join("../tiny-bert");
        assert_eq!(ChatTemplate::from_model_dir(&dir).unwrap(), None);
    }

    #[test]
    fn a_template_list_needs_a_default_and_jinja_files_are_read() {
        let dir = std::env::temp_dir().join(format!("agentc-chat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tokenizer_config.json"), r#"{"chat_template": [{"name": "tool_use", "template": "x"}]}"#).unwrap();
        let err = ChatTemplate::from_model_dir(&dir).unwrap_err();
        assert!(err.ends_with("`chat_template` is a list without a `default` template"), "{err}");
        std::fs::write(dir.join("tokenizer_config.json"), r#"{"eos_token": {"content": "<|end|>"}}"#).unwrap();
        std::fs::write(dir.join("chat_template.jinja"), "{{ messages[0]['content'] }}{{ eos_token }}").unwrap();
        let chat = ChatTemplate::from_model_dir(&dir).unwrap().unwrap();
        assert_eq!(chat.render(&[msg("user", "hi")], true).unwrap(), "hi<|end|>");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_template_that_does_not_parse_is_an_error() {
        let t = ChatTemplate { template: "{% for m in messages %}".into(), bos_token: String::new(), eos_token: String::new() };
        let err = t.check().unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
    }
}
