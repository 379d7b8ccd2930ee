//! Prints the problems, methods and calls of one module (a debugging aid).
fn main() {
    for path in std::env::args().skip(1) {
        let m = bsl_check::Module::load(std::path::Path::new(&path));
        for p in m.syntax_problems() {
            println!("{}: {p}", m.file);
        }
        if std::env::var_os("SEXP").is_some() {
            println!("{}", m.tree.root_node().to_sexp());
        }
    }
}
