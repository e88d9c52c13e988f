//! What `cargo xtask widget` takes out of the wasm between wasm-bindgen and wasm-opt: bytes
//! a visitor downloads and no code ever uses. Each step is measured in the README ("How it
//! is built").
//!
//! - The names the wasm imports its JavaScript functions by. wasm-bindgen names each after
//!   the JavaScript function and a hash (`__wbg_fetch_21015a0a4570ab44`), written twice: in
//!   the wasm's import section and as a key in the glue. They become `a`, `b`, … `aa`, … in
//!   both files alike. (`wasm-opt --minify-imports` renames only imports of the module
//!   `env`.)
//! - The names it exports its functions by (`__wbindgen_malloc`, the closure shims'
//!   `wasm_bindgen_e44edd6d937718a7___convert__closures_____invoke…`): the glue reads them
//!   as `wasm.name`, and those reads are renamed with them.
//!
//! The function table is left whole. A pass here used to empty the entries it believed
//! nothing calls, so that wasm-opt could drop their functions; it had to recognise every
//! constant that can be a table index (it missed some twice, and never read `v128.const`),
//! and a miss traps in a visitor's browser. It saved 503 B gzip and 444 B brotli (0.7 %).

use std::path::Path;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ExportSection, ImportSection, Module, RawSection};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

use anyhow::{Context, bail};

use crate::Result;

/// What was taken out, for the build's log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub imports: usize,
    pub exports: usize,
}

/// Trims the wasm at `wasm` and its glue at `glue` in place.
pub fn trim(wasm: &Path, glue: &Path) -> Result<Trimmed> {
    let bytes = std::fs::read(wasm).with_context(|| wasm.display().to_string())?;
    let glue_text = std::fs::read_to_string(glue).with_context(|| glue.display().to_string())?;
    let (trimmed_wasm, glue_text, trimmed) = trim_module(&bytes, &glue_text)
        .with_context(|| format!("{}: trimming the wasm", wasm.display()))?;
    std::fs::write(wasm, trimmed_wasm).with_context(|| wasm.display().to_string())?;
    std::fs::write(glue, glue_text).with_context(|| glue.display().to_string())?;
    Ok(trimmed)
}

fn trim_module(bytes: &[u8], glue: &str) -> Result<(Vec<u8>, String, Trimmed)> {
    let mut glue = glue.to_owned();
    let mut trimmed = Trimmed::default();
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(reader) => {
                let (imports, count) = rename_imports(reader, &mut glue)?;
                module.section(&imports);
                trimmed.imports = count;
            }
            Payload::ExportSection(reader) => {
                let (exports, count) = rename_exports(reader, &mut glue)?;
                module.section(&exports);
                trimmed.exports = count;
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection {
                        id,
                        data: &bytes[range],
                    });
                }
            }
        }
    }
    let module = module.finish();
    // What wasm-opt and the browsers will read must still be a valid module.
    wasmparser::Validator::new()
        .validate_all(&module)
        .context("the trimmed module is not valid")?;
    Ok((module, glue, trimmed))
}

/// Every imported function gets a short name, in the wasm and as the key of the glue's
/// imports object; other imports (the memory, tables) keep theirs.
fn rename_imports(
    reader: wasmparser::ImportSectionReader<'_>,
    glue: &mut String,
) -> Result<(ImportSection, usize)> {
    let mut imports = ImportSection::new();
    let mut renamed = 0;
    for import in reader.into_imports() {
        let import = import?;
        let ty = RoundtripReencoder.entity_type(import.ty)?;
        if !matches!(import.ty, TypeRef::Func(_)) {
            imports.import(import.module, import.name, ty);
            continue;
        }
        let short = short_name(renamed);
        let new_glue = replace_name(glue, import.name, &short);
        if new_glue == *glue {
            bail!("the glue does not name the import {}", import.name);
        }
        *glue = new_glue;
        imports.import(import.module, &short, ty);
        renamed += 1;
    }
    Ok((imports, renamed))
}

/// Every exported function the glue reads as `wasm.name` gets a short name, in both files,
/// when that is shorter. The short names start with `_` so that none can be the name of an
/// export kept as it is (the memory, tables, globals).
fn rename_exports(
    reader: wasmparser::ExportSectionReader<'_>,
    glue: &mut String,
) -> Result<(ExportSection, usize)> {
    let mut exports = ExportSection::new();
    let mut renamed = 0;
    for export in reader {
        let export = export?;
        let kind = RoundtripReencoder.export_kind(export.kind)?;
        let read = format!("wasm.{}", export.name);
        let short = format!("_{}", short_name(renamed));
        if export.kind != ExternalKind::Func
            || short.len() >= export.name.len()
            || !contains_name(glue, &read)
        {
            exports.export(export.name, kind, export.index);
            continue;
        }
        *glue = replace_name(glue, &read, &format!("wasm.{short}"));
        exports.export(&short, kind, export.index);
        renamed += 1;
    }
    Ok((exports, renamed))
}

/// `a`, `b`, … `Z`, then `aa`, `ab`, …: never a prefix problem, since names are replaced
/// whole.
pub fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[index % LETTERS.len()]);
        index /= LETTERS.len();
        if index == 0 {
            break;
        }
        index -= 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Whether `name` occurs whole in `text` (not as part of a longer name).
fn contains_name(text: &str, name: &str) -> bool {
    replace_name(text, name, "") != text
}

/// `text` with every whole occurrence of the identifier `old` (not part of a longer name)
/// replaced by `new`.
fn replace_name(text: &str, old: &str, new: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find(old) {
        let before = match found {
            0 => result.chars().last(),
            _ => rest[..found].chars().last(),
        };
        let after = rest[found + old.len()..].chars().next();
        result.push_str(&rest[..found]);
        if before.is_some_and(is_name_char) || after.is_some_and(is_name_char) {
            result.push_str(old);
        } else {
            result.push_str(new);
        }
        rest = &rest[found + old.len()..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use wasm_encoder::{
        CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind,
        Function, FunctionSection, Instruction, MemoryType, RefType, TableSection, TableType,
        TypeSection, ValType,
    };
    use wasmparser::ElementItems;

    use super::*;

    /// A module as wasm-bindgen leaves it: two imported functions and a memory; four
    /// functions, all in the table at offset 1, one's address taken in code (2), one's in
    /// data (3), one's as the upper half of a 64-bit constant (4) and one's nowhere a
    /// constant shows (1); an exported function the glue calls, one it does not, and the
    /// memory.
    fn module() -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        types.ty().function([], [ValType::I32]);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "glue",
            "__wbg_fetch_21015a0a4570ab44",
            EntityType::Function(0),
        );
        imports.import(
            "glue",
            "memory",
            MemoryType {
                minimum: 1,
                maximum: Some(2),
                memory64: false,
                shared: false,
                page_size_log2: None,
            },
        );
        imports.import("glue", "__wbindgen_throw", EntityType::Function(0));
        module.section(&imports);
        let mut functions = FunctionSection::new();
        functions.function(1).function(0).function(0).function(0);
        module.section(&functions);
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 5,
            maximum: Some(5),
            shared: false,
        });
        module.section(&tables);
        let mut exports = ExportSection::new();
        exports.export("__wbindgen_malloc_long_name", ExportKind::Func, 2);
        exports.export("not_read_by_the_glue", ExportKind::Func, 3);
        exports.export("memory", ExportKind::Memory, 0);
        module.section(&exports);
        let mut elements = ElementSection::new();
        elements.active(
            None,
            &ConstExpr::i32_const(1),
            Elements::Functions([2, 3, 4, 5].as_slice().into()),
        );
        module.section(&elements);
        let mut code = CodeSection::new();
        let mut takes_an_address = Function::new([]);
        takes_an_address
            .instruction(&Instruction::I32Const(2))
            .instruction(&Instruction::End);
        code.function(&takes_an_address);
        // Two 32-bit constants stored as one: index 4 in the upper half.
        let mut stores_two = Function::new([]);
        stores_two
            .instruction(&Instruction::I64Const((4 << 32) | 0x7fff_0000))
            .instruction(&Instruction::Drop)
            .instruction(&Instruction::End);
        code.function(&stores_two);
        for _ in 0..2 {
            let mut empty = Function::new([]);
            empty.instruction(&Instruction::End);
            code.function(&empty);
        }
        module.section(&code);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(16), [9, 3, 0, 0, 0]);
        module.section(&data);
        module.finish()
    }

    const GLUE: &str = "const i={__wbg_fetch_21015a0a4570ab44:function(){},__wbindgen_throw:function(){}};\
         wasm.__wbindgen_malloc_long_name(1);wasm.__wbindgen_malloc_long_name_2();wasm.memory;";

    #[test]
    fn names_get_short_in_the_wasm_and_the_glue_alike_and_the_table_stays_whole() {
        let (wasm, glue, trimmed) = trim_module(&module(), GLUE).unwrap();
        assert_eq!(
            trimmed,
            Trimmed {
                imports: 2,
                exports: 1
            }
        );
        assert_eq!(
            glue,
            "const i={a:function(){},b:function(){}};\
             wasm._a(1);wasm.__wbindgen_malloc_long_name_2();wasm.memory;"
        );
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        let mut table = Vec::new();
        for payload in Parser::new(0).parse_all(&wasm) {
            match payload.unwrap() {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        imports.push(import.unwrap().name.to_owned());
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        exports.push(export.unwrap().name.to_owned());
                    }
                }
                Payload::ElementSection(reader) => {
                    for element in reader {
                        let ElementItems::Functions(functions) = element.unwrap().items else {
                            panic!("function indices expected");
                        };
                        for function in functions {
                            table.push(function.unwrap());
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!(
            imports,
            ["a", "memory", "b"],
            "functions renamed, the memory kept"
        );
        assert_eq!(exports, ["_a", "not_read_by_the_glue", "memory"]);
        assert_eq!(
            table,
            [2, 3, 4, 5],
            "every entry kept, the one whose index no constant names too"
        );
    }

    #[test]
    fn short_names_are_unique() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let unique: HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }
}
