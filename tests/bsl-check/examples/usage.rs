//! Prints the add-in members the samples use, with the argument counts.
fn main() {
    let modules = bsl_check::load_all(&bsl_check::samples_dir());
    for (name, (kind, args)) in bsl_check::addin_usage(&modules) {
        println!("{name} {kind} {args:?}");
    }
}
