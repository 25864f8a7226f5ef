/*
 * lazy_archive.h - libarchive loaded with dlopen the first time it is used.
 *
 * Linked in, libarchive and what it pulls (libxml2, ICU, libstdc++, five
 * compressors) cost every process that links it ~3 MiB of resident library
 * pages and a millisecond or two of start-up: berthd's idle RSS and the
 * berth CLI's `ps` both pay it without touching an archive. Include this
 * instead of <archive.h>: the archive_* calls below go through the loaded
 * library. A process that cannot load it stops with a message (libarchive
 * is one of berth's installed dependencies).
 */
#ifndef BERTH_LAZY_ARCHIVE_H
#define BERTH_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

/* Every libarchive function berth calls. */
#define BERTH_ARCHIVE_FUNCS(X) \
	X(archive_entry_atime) \
	X(archive_entry_atime_is_set) \
	X(archive_entry_atime_nsec) \
	X(archive_entry_copy_hardlink) \
	X(archive_entry_copy_pathname) \
	X(archive_entry_copy_sourcepath) \
	X(archive_entry_copy_stat) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_gid) \
	X(archive_entry_hardlink) \
	X(archive_entry_mode) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_rdev) \
	X(archive_entry_rdevmajor) \
	X(archive_entry_rdevminor) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_gname) \
	X(archive_entry_set_hardlink) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_set_uname) \
	X(archive_entry_size) \
	X(archive_entry_sparse_count) \
	X(archive_entry_symlink) \
	X(archive_entry_uid) \
	X(archive_entry_unset_atime) \
	X(archive_entry_unset_birthtime) \
	X(archive_entry_unset_ctime) \
	X(archive_entry_xattr_add_entry) \
	X(archive_entry_xattr_next) \
	X(archive_entry_xattr_reset) \
	X(archive_errno) \
	X(archive_error_string) \
	X(archive_file_count) \
	X(archive_filter_bytes) \
	X(archive_filter_count) \
	X(archive_read_data) \
	X(archive_read_data_block) \
	X(archive_read_data_into_fd) \
	X(archive_read_disk_entry_from_file) \
	X(archive_read_disk_new) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open) \
	X(archive_read_open_fd) \
	X(archive_read_open_memory) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_empty) \
	X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_raw) \
	X(archive_read_support_format_tar) \
	X(archive_set_error) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_data_block) \
	X(archive_write_disk_new) \
	X(archive_write_disk_set_options) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open) \
	X(archive_write_open_fd) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_format_pax_restricted)

typedef struct berth_archive_lib {
#define X(f) __typeof__(f) *p_##f;
	BERTH_ARCHIVE_FUNCS(X)
#undef X
} berth_archive_lib_t;

const berth_archive_lib_t *berth_archive_lib(void);

#define archive_entry_atime (berth_archive_lib()->p_archive_entry_atime)
#define archive_entry_atime_is_set (berth_archive_lib()->p_archive_entry_atime_is_set)
#define archive_entry_atime_nsec (berth_archive_lib()->p_archive_entry_atime_nsec)
#define archive_entry_copy_hardlink (berth_archive_lib()->p_archive_entry_copy_hardlink)
#define archive_entry_copy_pathname (berth_archive_lib()->p_archive_entry_copy_pathname)
#define archive_entry_copy_sourcepath (berth_archive_lib()->p_archive_entry_copy_sourcepath)
#define archive_entry_copy_stat (berth_archive_lib()->p_archive_entry_copy_stat)
#define archive_entry_filetype (berth_archive_lib()->p_archive_entry_filetype)
#define archive_entry_free (berth_archive_lib()->p_archive_entry_free)
#define archive_entry_gid (berth_archive_lib()->p_archive_entry_gid)
#define archive_entry_hardlink (berth_archive_lib()->p_archive_entry_hardlink)
#define archive_entry_mode (berth_archive_lib()->p_archive_entry_mode)
#define archive_entry_mtime (berth_archive_lib()->p_archive_entry_mtime)
#define archive_entry_mtime_nsec (berth_archive_lib()->p_archive_entry_mtime_nsec)
#define archive_entry_new (berth_archive_lib()->p_archive_entry_new)
#define archive_entry_pathname (berth_archive_lib()->p_archive_entry_pathname)
#define archive_entry_perm (berth_archive_lib()->p_archive_entry_perm)
#define archive_entry_rdev (berth_archive_lib()->p_archive_entry_rdev)
#define archive_entry_rdevmajor (berth_archive_lib()->p_archive_entry_rdevmajor)
#define archive_entry_rdevminor (berth_archive_lib()->p_archive_entry_rdevminor)
#define archive_entry_set_filetype (berth_archive_lib()->p_archive_entry_set_filetype)
#define archive_entry_set_gid (berth_archive_lib()->p_archive_entry_set_gid)
#define archive_entry_set_gname (berth_archive_lib()->p_archive_entry_set_gname)
#define archive_entry_set_hardlink (berth_archive_lib()->p_archive_entry_set_hardlink)
#define archive_entry_set_mtime (berth_archive_lib()->p_archive_entry_set_mtime)
#define archive_entry_set_pathname (berth_archive_lib()->p_archive_entry_set_pathname)
#define archive_entry_set_perm (berth_archive_lib()->p_archive_entry_set_perm)
#define archive_entry_set_size (berth_archive_lib()->p_archive_entry_set_size)
#define archive_entry_set_symlink (berth_archive_lib()->p_archive_entry_set_symlink)
#define archive_entry_set_uid (berth_archive_lib()->p_archive_entry_set_uid)
#define archive_entry_set_uname (berth_archive_lib()->p_archive_entry_set_uname)
#define archive_entry_size (berth_archive_lib()->p_archive_entry_size)
#define archive_entry_sparse_count (berth_archive_lib()->p_archive_entry_sparse_count)
#define archive_entry_symlink (berth_archive_lib()->p_archive_entry_symlink)
#define archive_entry_uid (berth_archive_lib()->p_archive_entry_uid)
#define archive_entry_unset_atime (berth_archive_lib()->p_archive_entry_unset_atime)
#define archive_entry_unset_birthtime (berth_archive_lib()->p_archive_entry_unset_birthtime)
#define archive_entry_unset_ctime (berth_archive_lib()->p_archive_entry_unset_ctime)
#define archive_entry_xattr_add_entry (berth_archive_lib()->p_archive_entry_xattr_add_entry)
#define archive_entry_xattr_next (berth_archive_lib()->p_archive_entry_xattr_next)
#define archive_entry_xattr_reset (berth_archive_lib()->p_archive_entry_xattr_reset)
#define archive_errno (berth_archive_lib()->p_archive_errno)
#define archive_error_string (berth_archive_lib()->p_archive_error_string)
#define archive_file_count (berth_archive_lib()->p_archive_file_count)
#define archive_filter_bytes (berth_archive_lib()->p_archive_filter_bytes)
#define archive_filter_count (berth_archive_lib()->p_archive_filter_count)
#define archive_read_data (berth_archive_lib()->p_archive_read_data)
#define archive_read_data_block (berth_archive_lib()->p_archive_read_data_block)
#define archive_read_data_into_fd (berth_archive_lib()->p_archive_read_data_into_fd)
#define archive_read_disk_entry_from_file (berth_archive_lib()->p_archive_read_disk_entry_from_file)
#define archive_read_disk_new (berth_archive_lib()->p_archive_read_disk_new)
#define archive_read_free (berth_archive_lib()->p_archive_read_free)
#define archive_read_new (berth_archive_lib()->p_archive_read_new)
#define archive_read_next_header (berth_archive_lib()->p_archive_read_next_header)
#define archive_read_open (berth_archive_lib()->p_archive_read_open)
#define archive_read_open_fd (berth_archive_lib()->p_archive_read_open_fd)
#define archive_read_open_memory (berth_archive_lib()->p_archive_read_open_memory)
#define archive_read_support_filter_all (berth_archive_lib()->p_archive_read_support_filter_all)
#define archive_read_support_format_empty (berth_archive_lib()->p_archive_read_support_format_empty)
#define archive_read_support_format_gnutar (berth_archive_lib()->p_archive_read_support_format_gnutar)
#define archive_read_support_format_raw (berth_archive_lib()->p_archive_read_support_format_raw)
#define archive_read_support_format_tar (berth_archive_lib()->p_archive_read_support_format_tar)
#define archive_set_error (berth_archive_lib()->p_archive_set_error)
#define archive_write_close (berth_archive_lib()->p_archive_write_close)
#define archive_write_data (berth_archive_lib()->p_archive_write_data)
#define archive_write_data_block (berth_archive_lib()->p_archive_write_data_block)
#define archive_write_disk_new (berth_archive_lib()->p_archive_write_disk_new)
#define archive_write_disk_set_options (berth_archive_lib()->p_archive_write_disk_set_options)
#define archive_write_finish_entry (berth_archive_lib()->p_archive_write_finish_entry)
#define archive_write_free (berth_archive_lib()->p_archive_write_free)
#define archive_write_header (berth_archive_lib()->p_archive_write_header)
#define archive_write_new (berth_archive_lib()->p_archive_write_new)
#define archive_write_open (berth_archive_lib()->p_archive_write_open)
#define archive_write_open_fd (berth_archive_lib()->p_archive_write_open_fd)
#define archive_write_set_bytes_in_last_block (berth_archive_lib()->p_archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block (berth_archive_lib()->p_archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted (berth_archive_lib()->p_archive_write_set_format_pax_restricted)

#endif
