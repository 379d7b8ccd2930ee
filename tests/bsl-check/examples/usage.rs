//! Prints the add-in members the samples use (name, kind, argument counts):
//! the source of `1c-samples/addin-members.json`.
fn main() {
    let modules = bsl_check::load_all(&bsl_check::samples_dir());
    for (name, (kind, args)) in bsl_check::addin_usage(&modules) {
        println!("{name} {kind} {args:?}");
    }
}
