//! Custom attributes: each module defines its own typed fields, validated on every save.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    Text,
    Number,
    Boolean,
    Date,
    Enumeration,
}

impl AttributeKind {
    pub const ALL: [AttributeKind; 5] = [
        AttributeKind::Text,
        AttributeKind::Number,
        AttributeKind::Boolean,
        AttributeKind::Date,
        AttributeKind::Enumeration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::Text => "text",
            AttributeKind::Number => "number",
            AttributeKind::Boolean => "boolean",
            AttributeKind::Date => "date",
            AttributeKind::Enumeration => "enumeration",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                format!("unknown kind {s:?}; expected text, number, boolean, date or enumeration")
            })
    }
}

/// One custom attribute of a module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDef {
    /// The key in a requirement's `attributes`; letters, digits, `_` and `-`, as in a column header.
    pub name: String,
    pub kind: AttributeKind,
    /// The allowed values of an enumeration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// The names of the built-in fields: a custom attribute may not shadow them, so that a
/// spreadsheet column always means one thing.
pub const RESERVED: &[&str] = &[
    "id",
    "human_id",
    "title",
    "statement",
    "rationale",
    "type",
    "kind",
    "priority",
    "verification",
    "verification_methods",
    "source",
    "owner",
    "tags",
    "parent",
    "status",
    "revision",
    "module",
    "order",
];

impl AttributeDef {
    /// Validates a definition (name syntax, options of an enumeration).
    pub fn validate(&self) -> Result<(), String> {
        let n = self.name.trim();
        if n.is_empty() || n.len() > 60 {
            return Err("attribute name must be 1 to 60 characters".into());
        }
        if !n
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
        {
            return Err(format!(
                "attribute name {n:?} may contain only letters, digits, spaces, '_' and '-'"
            ));
        }
        if RESERVED.contains(&n.to_lowercase().as_str()) {
            return Err(format!("attribute name {n:?} is a built-in field"));
        }
        if self.kind == AttributeKind::Enumeration && self.options.is_empty() {
            return Err(format!("enumeration {n:?} needs at least one option"));
        }
        Ok(())
    }

    /// Parses text typed by a person (a form field or a spreadsheet cell) into the stored
    /// value; the empty string is "no value".
    pub fn parse_text(&self, raw: &str) -> Result<Option<Value>, String> {
        let s = raw.trim();
        if s.is_empty() {
            return if self.required {
                Err("is required".into())
            } else {
                Ok(None)
            };
        }
        let v = match self.kind {
            AttributeKind::Text => Value::String(s.to_owned()),
            AttributeKind::Number => {
                let n: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
                if !n.is_finite() {
                    return Err(format!("{s:?} is not a finite number"));
                }
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{s:?} is not a number"))?
            }
            AttributeKind::Boolean => match s.to_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Value::Bool(true),
                "false" | "no" | "0" | "off" => Value::Bool(false),
                _ => return Err(format!("{s:?} is not true or false")),
            },
            AttributeKind::Date => {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| format!("{s:?} is not a date in the form YYYY-MM-DD"))?;
                Value::String(s.to_owned())
            }
            AttributeKind::Enumeration => {
                if !self.options.iter().any(|o| o == s) {
                    return Err(format!("{s:?} is not one of {}", self.options.join(", ")));
                }
                Value::String(s.to_owned())
            }
        };
        Ok(Some(v))
    }

    /// Checks an already-typed JSON value (an API body) against the definition.
    pub fn check_value(&self, v: &Value) -> Result<Option<Value>, String> {
        match v {
            Value::Null => self.parse_text(""),
            Value::String(s) => self.parse_text(s),
            Value::Bool(b) if self.kind == AttributeKind::Boolean => Ok(Some(Value::Bool(*b))),
            Value::Number(n) if self.kind == AttributeKind::Number => {
                Ok(Some(Value::Number(n.clone())))
            }
            other => Err(format!(
                "{other} is not a valid {} value",
                self.kind.as_str()
            )),
        }
    }

    /// The value as a person reads and types it (the inverse of `parse_text`).
    pub fn display(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                _ => n.to_string(),
            },
            other => other.to_string(),
        }
    }
}

/// Validates a whole definition list: each definition and unique names.
pub fn validate_defs(defs: &[AttributeDef]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for d in defs {
        d.validate()?;
        if !seen.insert(d.name.trim().to_lowercase()) {
            return Err(format!("attribute {:?} is defined twice", d.name));
        }
    }
    Ok(())
}

/// Validates values typed as text against the module's definitions. Unknown names are an
/// error (a typo must not silently create data); missing required ones too.
pub fn parse_values(
    defs: &[AttributeDef],
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Value>, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for name in raw.keys() {
        if !defs.iter().any(|d| &d.name == name) {
            errors.push((
                name.clone(),
                "is not an attribute of this module".to_owned(),
            ));
        }
    }
    for d in defs {
        let text = raw.get(&d.name).map(String::as_str).unwrap_or("");
        match d.parse_text(text) {
            Ok(Some(v)) => {
                out.insert(d.name.clone(), v);
            }
            Ok(None) => {}
            Err(e) => errors.push((d.name.clone(), e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: AttributeKind) -> AttributeDef {
        AttributeDef {
            name: "x".into(),
            kind,
            options: vec!["A".into(), "B".into()],
            required: false,
        }
    }

    #[test]
    fn typed_values_are_validated() {
        assert_eq!(
            def(AttributeKind::Number).parse_text("2.5").unwrap(),
            Some(serde_json::json!(2.5))
        );
        assert!(def(AttributeKind::Number).parse_text("two").is_err());
        assert!(def(AttributeKind::Boolean).parse_text("maybe").is_err());
        assert!(def(AttributeKind::Date).parse_text("2026-13-01").is_err());
        assert!(def(AttributeKind::Enumeration).parse_text("C").is_err());
        assert_eq!(def(AttributeKind::Text).parse_text("  ").unwrap(), None);
        let mut req = def(AttributeKind::Text);
        req.required = true;
        assert!(req.parse_text("").is_err());
    }

    #[test]
    fn definitions_refuse_reserved_and_duplicate_names() {
        let mut d = def(AttributeKind::Text);
        d.name = "Title".into();
        assert!(d.validate().is_err());
        let a = def(AttributeKind::Text);
        assert!(validate_defs(&[a.clone(), a]).is_err());
    }

    #[test]
    fn display_inverts_parse() {
        for (k, s) in [
            (AttributeKind::Number, "3"),
            (AttributeKind::Number, "2.5"),
            (AttributeKind::Boolean, "true"),
            (AttributeKind::Date, "2026-01-31"),
            (AttributeKind::Enumeration, "B"),
        ] {
            let v = def(k).parse_text(s).unwrap().unwrap();
            assert_eq!(AttributeDef::display(&v), s);
        }
    }
}
