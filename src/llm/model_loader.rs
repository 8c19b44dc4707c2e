//! Loads the model with llama.cpp's `use_extra_bufts` switch, which llama-cpp-2 does not
//! expose. With `target-cpu=native`, ggml compiles its Intel AMX kernels, and on CPUs/VMs
//! that report AMX without enabling its register state they fault (SIGSEGV at
//! `ldtilecfg`) on the first decode. Keeping weights out of the "extra" buffers (AMX tiles,
//! repacked layouts) avoids those kernels; llama-bench's `--repack 0` is the same setting.

use std::ffi::{c_void, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;

/// Loads `path`; `on_progress` gets 0.0..=1.0 and returns false to abort the load.
/// `_backend` proves llama.cpp's backend is initialized.
pub(crate) fn load_model(
    _backend: &LlamaBackend,
    path: &Path,
    use_extra_buffers: bool,
    mut on_progress: impl FnMut(f32) -> bool,
) -> Result<LlamaModel, String> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| "the path contains a NUL byte".to_string())?;
    let mut callback: &mut dyn FnMut(f32) -> bool = &mut on_progress;
    // SAFETY: plain struct of defaults from llama.cpp.
    let mut params = unsafe { llama_cpp_sys_2::llama_model_default_params() };
    params.use_extra_bufts = use_extra_buffers;
    params.progress_callback = Some(progress_trampoline);
    params.progress_callback_user_data =
        (&mut callback as *mut &mut dyn FnMut(f32) -> bool).cast::<c_void>();
    // SAFETY: the path is a valid C string; the callback data outlives the call (llama.cpp
    // only calls it during loading).
    let raw = unsafe { llama_cpp_sys_2::llama_model_load_from_file(c_path.as_ptr(), params) };
    let model = NonNull::new(raw).ok_or_else(|| {
        "llama.cpp returned no model (unknown architecture, unsupported tensor type, or load aborted)"
            .to_string()
    })?;
    // SAFETY: `LlamaModel` is `#[repr(transparent)]` over `Ptr<llama_model>`, itself
    // `#[repr(transparent)]` over `NonNull<llama_model>` (llama-cpp-2 0.1.160, pinned by
    // Cargo.lock; `transmute` refuses to compile if the sizes ever differ). The pointer is
    // a model fresh from llama.cpp's loader, exactly what `LlamaModel::load_from_file` wraps;
    // `LlamaModel`'s Drop frees it with `llama_model_free`.
    Ok(unsafe { std::mem::transmute::<NonNull<llama_cpp_sys_2::llama_model>, LlamaModel>(model) })
}

unsafe extern "C" fn progress_trampoline(progress: f32, data: *mut c_void) -> bool {
    // SAFETY: `data` is the `&mut &mut dyn FnMut` set up in `load_model`, alive during the load.
    let callback = unsafe { &mut *data.cast::<&mut dyn FnMut(f32) -> bool>() };
    callback(progress)
}
