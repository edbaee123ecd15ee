//! Observing what a component opens, lists and creates, for behaviour profiles (`learn`,
//! `--profile`): these replace, in the linker, `get-directories` (to learn which path each
//! preopened directory is: granted paths appear at the same path in the guest), `open-at`
//! and `read-directory`; each calls wasmtime-wasi's own implementation, and when the call is
//! observed, records the path it named (joined to its directory's) in the grant's recorder.
//! Enforcement stays with the preopens: these only record.

use super::state::StoreState;
use crate::audit::PathUse;
use crate::native::seccomp::observe::absolute;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::FsResult;
use wasmtime_wasi::p2::bindings::filesystem::preopens;
use wasmtime_wasi::p2::bindings::filesystem::types::{
    Descriptor, DescriptorFlags, DirectoryEntryStream, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};

const VERSION: &str = "0.2.12";

/// A wasmtime-wasi result as the guest sees it: its error code, or a trap.
fn guest<T>(r: FsResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

/// How an `open-at` uses its path: writing, creating or truncating is a write.
fn path_use(oflags: OpenFlags, flags: DescriptorFlags) -> PathUse {
    let writes = flags.contains(DescriptorFlags::WRITE)
        || flags.contains(DescriptorFlags::MUTATE_DIRECTORY)
        || oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
    if writes { PathUse::Write } else { PathUse::Read }
}

pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance(&format!("wasi:filesystem/preopens@{VERSION}"))?;
    inst.func_wrap("get-directories", |mut store, (): ()| {
        let state = store.data_mut();
        let dirs = preopens::Host::get_directories(&mut state.filesystem())?;
        if let Some(paths) = state.observed_dirs.as_mut() {
            for (d, guest_path) in &dirs {
                paths.insert(d.rep(), guest_path.clone());
            }
        }
        Ok((dirs,))
    })?;
    let mut inst = linker.instance(&format!("wasi:filesystem/types@{VERSION}"))?;
    type OpenArgs = (Resource<Descriptor>, PathFlags, String, OpenFlags, DescriptorFlags);
    inst.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store, (fd, path_flags, path, oflags, flags): OpenArgs| {
            Box::new(async move {
                let state = store.data_mut();
                let base = state.observed_dirs.as_ref().and_then(|m| m.get(&fd.rep()).cloned());
                let named = base.map(|b| absolute(&b, &path));
                let r = HostDescriptor::open_at(&mut state.filesystem(), fd, path_flags, path, oflags, flags).await;
                if let Some(full) = named {
                    if let (Ok(opened), Some(paths)) = (&r, state.observed_dirs.as_mut()) {
                        paths.insert(opened.rep(), full.clone());
                    }
                    // Opening a directory is not reading it: listing it is (`read-directory`).
                    if !oflags.contains(OpenFlags::DIRECTORY) {
                        state.grant.audit().recorder().path(path_use(oflags, flags), full);
                    }
                }
                Ok((guest(r)?,))
            })
        },
    )?;
    inst.func_wrap_async("[method]descriptor.read-directory", |mut store, (fd,): (Resource<Descriptor>,)| {
        Box::new(async move {
            let state = store.data_mut();
            if let Some(dir) = state.observed_dirs.as_ref().and_then(|m| m.get(&fd.rep()).cloned()) {
                state.grant.audit().recorder().path(PathUse::List, dir);
            }
            let r: FsResult<Resource<DirectoryEntryStream>> =
                HostDescriptor::read_directory(&mut state.filesystem(), fd).await;
            Ok((guest(r)?,))
        })
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
