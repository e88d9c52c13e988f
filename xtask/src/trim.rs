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
//! - Function-table entries nothing can call. Every `#[wasm_bindgen]` import in js-sys and
//!   web-sys, used or not, brings a descriptor function that takes the address of the
//!   closure shims its signature needs, so the linker puts all of them in the table.
//!   wasm-bindgen runs the descriptors and drops them, but keeps the table as it was, and
//!   wasm-opt must keep every function in a table that is called indirectly. A function
//!   pointer in a Rust-built module is only ever a constant: an `i32.const` in code or in a
//!   global's initialiser, half of an `i64.const` (LLVM merges two adjacent 32-bit stores of
//!   constants into one 64-bit store), or four bytes of a data segment (vtables). An entry
//!   whose index is none of these (every 4-byte window of the data is checked, so a
//!   coincidence keeps an entry, never drops one) becomes `ref.null`, which traps if
//!   called, and wasm-opt then removes the function.

use std::collections::HashSet;
use std::path::Path;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    ConstExpr, ElementSection, Elements, ExportSection, ImportSection, Module, RawSection,
};
use wasmparser::{ElementItems, ElementKind, ExternalKind, Operator, Parser, Payload, TypeRef};

use crate::Result;

/// What was taken out, for the build's log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub imports: usize,
    pub exports: usize,
    pub table_entries: usize,
}

/// Trims the wasm at `wasm` and its glue at `glue` in place.
pub fn trim(wasm: &Path, glue: &Path) -> Result<Trimmed> {
    let bytes = std::fs::read(wasm).map_err(|err| format!("{}: {err}", wasm.display()))?;
    let glue_text =
        std::fs::read_to_string(glue).map_err(|err| format!("{}: {err}", glue.display()))?;
    let (trimmed_wasm, glue_text, trimmed) = trim_module(&bytes, &glue_text)
        .map_err(|err| format!("{}: trimming the wasm: {err}", wasm.display()))?;
    std::fs::write(wasm, trimmed_wasm).map_err(|err| format!("{}: {err}", wasm.display()))?;
    std::fs::write(glue, glue_text).map_err(|err| format!("{}: {err}", glue.display()))?;
    Ok(trimmed)
}

fn trim_module(bytes: &[u8], glue: &str) -> Result<(Vec<u8>, String, Trimmed)> {
    let pointers = function_pointers(bytes)?;
    let mut glue = glue.to_owned();
    let mut trimmed = Trimmed::default();
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(parse_error)? {
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
            Payload::ElementSection(reader) => {
                let (elements, count) = empty_uncalled_entries(reader, &pointers)?;
                module.section(&elements);
                trimmed.table_entries = count;
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
        .map_err(|err| format!("the trimmed module is not valid: {err}"))?;
    Ok((module, glue, trimmed))
}

fn parse_error(err: wasmparser::BinaryReaderError) -> String {
    err.to_string()
}

fn reencode_error(err: wasm_encoder::reencode::Error) -> String {
    err.to_string()
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
        let import = import.map_err(parse_error)?;
        let ty = RoundtripReencoder
            .entity_type(import.ty)
            .map_err(reencode_error)?;
        if !matches!(import.ty, TypeRef::Func(_)) {
            imports.import(import.module, import.name, ty);
            continue;
        }
        let short = short_name(renamed);
        let new_glue = replace_name(glue, import.name, &short);
        if new_glue == *glue {
            return Err(format!("the glue does not name the import {}", import.name));
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
        let export = export.map_err(parse_error)?;
        let kind = RoundtripReencoder
            .export_kind(export.kind)
            .map_err(reencode_error)?;
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

/// The element segments with every entry whose table index is not in `pointers` as
/// `ref.null` (a call through it traps), so that wasm-opt can remove its function.
fn empty_uncalled_entries(
    reader: wasmparser::ElementSectionReader<'_>,
    pointers: &HashSet<u32>,
) -> Result<(ElementSection, usize)> {
    let mut elements = ElementSection::new();
    let mut emptied = 0;
    for element in reader {
        let element = element.map_err(parse_error)?;
        let ElementKind::Active {
            table_index,
            offset_expr,
        } = element.kind
        else {
            return Err("only active element segments are expected".into());
        };
        let ElementItems::Functions(functions) = element.items else {
            return Err("only element segments of function indices are expected".into());
        };
        let offset =
            constant(&offset_expr).ok_or("an element segment's offset is not a constant")?;
        let mut items = Vec::new();
        for (position, function) in functions.into_iter().enumerate() {
            let function = function.map_err(parse_error)?;
            let index = offset.wrapping_add(position as u32);
            items.push(if pointers.contains(&index) {
                ConstExpr::ref_func(function)
            } else {
                emptied += 1;
                ConstExpr::ref_null(wasm_encoder::HeapType::FUNC)
            });
        }
        let offset = RoundtripReencoder
            .const_expr(offset_expr)
            .map_err(reencode_error)?;
        elements.active(
            table_index,
            &offset,
            Elements::Expressions(wasm_encoder::RefType::FUNCREF, items.into()),
        );
    }
    Ok((elements, emptied))
}

/// Every value that could be a function's index in the table: each `i32.const` and both
/// halves of each `i64.const` in code and in globals' initialisers, and each 4-byte
/// little-endian window of the data segments.
fn function_pointers(bytes: &[u8]) -> Result<HashSet<u32>> {
    fn add(pointers: &mut HashSet<u32>, operator: Operator<'_>) {
        match operator {
            Operator::I32Const { value } => {
                pointers.insert(value as u32);
            }
            Operator::I64Const { value } => {
                pointers.extend([value as u32, (value >> 32) as u32]);
            }
            _ => {}
        }
    }
    let mut pointers = HashSet::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(parse_error)? {
            Payload::CodeSectionEntry(body) => {
                for operator in body.get_operators_reader().map_err(parse_error)? {
                    add(&mut pointers, operator.map_err(parse_error)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    for operator in global
                        .map_err(parse_error)?
                        .init_expr
                        .get_operators_reader()
                    {
                        add(&mut pointers, operator.map_err(parse_error)?);
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(parse_error)?.data;
                    pointers.extend(
                        data.windows(4)
                            .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]])),
                    );
                }
            }
            _ => {}
        }
    }
    Ok(pointers)
}

/// The value of a constant expression that is a single `i32.const`.
fn constant(expr: &wasmparser::ConstExpr<'_>) -> Option<u32> {
    let mut operators = expr.get_operators_reader();
    match (operators.read().ok()?, operators.read().ok()?) {
        (Operator::I32Const { value }, Operator::End) => Some(value as u32),
        _ => None,
    }
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
    use wasm_encoder::{
        CodeSection, DataSection, EntityType, ExportKind, Function, FunctionSection, Instruction,
        MemoryType, RefType, TableSection, TableType, TypeSection, ValType,
    };

    use super::*;

    /// A module as wasm-bindgen leaves it: two imported functions and a memory; four
    /// functions, all in the table at offset 1, one's address taken in code (2), one's in
    /// data (3) and one's as the upper half of a 64-bit constant (4); an exported function
    /// the glue calls, one it does not, and the memory.
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
    fn names_get_short_and_unused_table_entries_null_in_the_wasm_and_the_glue_alike() {
        let (wasm, glue, trimmed) = trim_module(&module(), GLUE).unwrap();
        assert_eq!(
            trimmed,
            Trimmed {
                imports: 2,
                exports: 1,
                table_entries: 1
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
                        let ElementItems::Expressions(_, items) = element.unwrap().items else {
                            panic!("expressions expected");
                        };
                        for item in items {
                            let mut operators = item.unwrap().get_operators_reader();
                            table.push(match operators.read().unwrap() {
                                Operator::RefFunc { function_index } => Some(function_index),
                                Operator::RefNull { .. } => None,
                                other => panic!("unexpected {other:?}"),
                            });
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
            [None, Some(3), Some(4), Some(5)],
            "index 1 is nowhere, 2 is in code, 3 in data, 4 half of an i64 in code"
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
