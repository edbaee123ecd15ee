//! Every piece of text a model reads in a tool definition, with where it is. Poisoning is not
//! confined to the description ("full-schema poisoning"): parameter descriptions, enum values,
//! defaults, examples, titles, annotations, property names and unknown extra fields all reach
//! the model.

use serde_json::Value;

/// How deep a definition is walked; deeper parts are not read (and a finding says so).
pub const MAX_DEPTH: usize = 48;
/// How many text fields are read per tool at most.
pub const MAX_FIELDS: usize = 4096;

/// What a piece of text is, which decides how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The tool's name.
    Name,
    /// A title (tool, annotations, or schema).
    Title,
    /// The tool's description.
    Description,
    /// The name of an input parameter.
    ParamName,
    /// The description of a parameter (or of any nested schema).
    ParamDescription,
    /// An `enum`/`const` value, a default or an example: data the model may copy into a call.
    Value,
    /// Any other string (unknown fields, `_meta`, formats, patterns…).
    Other,
}

/// One piece of text and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Dotted path: `description`, `inputSchema.properties.path.description`, …
    pub location: String,
    pub kind: Kind,
    pub text: String,
    /// For parameter texts: the parameter's name.
    pub param: Option<String>,
}

/// The texts of `tool`, in document order.
pub fn extract(tool: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    let Some(obj) = tool.as_object() else {
        if let Some(s) = tool.as_str() {
            push(&mut out, "description".into(), Kind::Description, s, None);
        }
        return out;
    };
    for (key, value) in obj {
        let kind = match key.as_str() {
            "name" => Kind::Name,
            "title" => Kind::Title,
            "description" => Kind::Description,
            "inputSchema" | "input_schema" | "parameters" | "outputSchema" | "output_schema" => {
                schema(&mut out, key, value, None, 0);
                continue;
            }
            _ => Kind::Other,
        };
        walk(&mut out, key.clone(), value, kind, None, 0);
    }
    // The names of an output schema's properties describe the result; the model fills none.
    for f in &mut out {
        if f.kind == Kind::ParamName
            && (f.location.starts_with("outputSchema") || f.location.starts_with("output_schema"))
        {
            f.kind = Kind::Other;
        }
    }
    out
}

fn push(out: &mut Vec<Field>, location: String, kind: Kind, text: &str, param: Option<&str>) {
    if out.len() < MAX_FIELDS && !text.trim().is_empty() {
        out.push(Field { location, kind, text: text.to_string(), param: param.map(str::to_string) });
    }
}

/// Any value: its strings, and the keys of its objects (a key is text the model reads too).
fn walk(out: &mut Vec<Field>, at: String, v: &Value, kind: Kind, param: Option<&str>, depth: usize) {
    if depth > MAX_DEPTH || out.len() >= MAX_FIELDS {
        return;
    }
    match v {
        Value::String(s) => push(out, at, kind, s, param),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(out, format!("{at}[{i}]"), item, kind, param, depth + 1);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k.chars().count() > 24 || k.contains(char::is_whitespace) {
                    push(out, format!("{at}.{k} (key)"), Kind::Other, k, param);
                }
                let kind = if k == "title" {
                    Kind::Title
                } else if k == "description" {
                    Kind::ParamDescription
                } else {
                    kind
                };
                walk(out, format!("{at}.{k}"), item, kind, param, depth + 1);
            }
        }
        _ => {}
    }
}

/// A JSON Schema: descriptions, titles, enum values, defaults and examples by their role,
/// parameter names, and nested schemas.
fn schema(out: &mut Vec<Field>, at: &str, v: &Value, param: Option<&str>, depth: usize) {
    if depth > MAX_DEPTH || out.len() >= MAX_FIELDS {
        return;
    }
    let Some(map) = v.as_object() else {
        walk(out, at.to_string(), v, Kind::Other, param, depth + 1);
        return;
    };
    for (k, item) in map {
        let here = format!("{at}.{k}");
        match k.as_str() {
            "description" => walk(out, here, item, Kind::ParamDescription, param, depth + 1),
            "title" => walk(out, here, item, Kind::Title, param, depth + 1),
            "enum" | "const" | "default" | "examples" | "example" => {
                walk(out, here, item, Kind::Value, param, depth + 1);
            }
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                let Some(props) = item.as_object() else { continue };
                for (name, sub) in props {
                    if k == "properties" {
                        push(out, format!("{here}.{name} (name)"), Kind::ParamName, name, Some(name));
                    }
                    schema(out, &format!("{here}.{name}"), sub, Some(name), depth + 1);
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "additionalItems" => {
                if item.is_object() {
                    schema(out, &here, item, param, depth + 1);
                } else if let Some(list) = item.as_array() {
                    for (i, sub) in list.iter().enumerate() {
                        schema(out, &format!("{here}[{i}]"), sub, param, depth + 1);
                    }
                }
            }
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Some(list) = item.as_array() {
                    for (i, sub) in list.iter().enumerate() {
                        schema(out, &format!("{here}[{i}]"), sub, param, depth + 1);
                    }
                }
            }
            // Machine-read keywords: not text for the model, but a string there is still read.
            "type" | "format" | "$schema" | "$id" | "$ref" | "required" | "pattern" | "minimum" | "maximum"
            | "minLength" | "maxLength" | "minItems" | "maxItems" | "uniqueItems" | "exclusiveMinimum"
            | "exclusiveMaximum" | "multipleOf" | "minProperties" | "maxProperties" => {
                // A long string, or one of several words (a regex pattern that reads as a sentence):
                // a model reads it too. Escaped dots and slashes are shown plain.
                if let Some(s) = item.as_str().filter(|s| s.chars().count() > 64 || s.split_whitespace().count() >= 3) {
                    push(out, here, Kind::Other, &s.replace("\\.", ".").replace("\\/", "/"), param);
                }
            }
            _ => walk(out, here, item, Kind::Other, param, depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reaches_every_place_a_model_reads() {
        let tool = json!({
            "name": "add",
            "title": "Adder",
            "description": "Adds.",
            "annotations": {"title": "Add numbers", "readOnlyHint": true},
            "inputSchema": {"type": "object", "properties": {
                "a": {"type": "number", "description": "first"},
                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                "nested": {"type": "object", "properties": {"deep": {"description": "deeper"}}},
                "list": {"type": "array", "items": {"anyOf": [{"description": "alt"}]}}
            }},
            "_meta": {"note": "extra"}
        });
        let f = extract(&tool);
        let at = |l: &str| f.iter().find(|x| x.location == l).map(|x| (x.kind, x.text.clone()));
        assert_eq!(at("name"), Some((Kind::Name, "add".into())));
        assert_eq!(at("annotations.title"), Some((Kind::Title, "Add numbers".into())));
        assert_eq!(at("inputSchema.properties.a.description"), Some((Kind::ParamDescription, "first".into())));
        assert_eq!(at("inputSchema.properties.mode.enum[1]"), Some((Kind::Value, "slow".into())));
        assert_eq!(at("inputSchema.properties.mode.default"), Some((Kind::Value, "fast".into())));
        assert_eq!(
            at("inputSchema.properties.nested.properties.deep.description"),
            Some((Kind::ParamDescription, "deeper".into()))
        );
        assert_eq!(
            at("inputSchema.properties.list.items.anyOf[0].description"),
            Some((Kind::ParamDescription, "alt".into()))
        );
        assert_eq!(at("_meta.note"), Some((Kind::Other, "extra".into())));
        assert_eq!(at("inputSchema.properties.a (name)"), Some((Kind::ParamName, "a".into())));
    }

    #[test]
    fn deep_or_huge_definitions_are_bounded() {
        let mut v = json!("leaf text");
        for _ in 0..200 {
            v = json!({ "x": v });
        }
        assert!(extract(&json!({ "description": "d", "_meta": v })).len() <= 2);
    }
}
