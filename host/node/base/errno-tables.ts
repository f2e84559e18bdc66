/**
 * The numeric error codes the native backends meet, by name: Linux errno values (io_uring CQE results
 * and raw syscalls) and the Win32 errors of IOCP and ReadDirectoryChangesW. errors.ts categorises the names.
 */

/** Linux errno numbers → names, for CQE results and raw syscalls. */
export const LINUX_ERRNO: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  7: 'E2BIG',
  8: 'ENOEXEC',
  9: 'EBADF',
  10: 'ECHILD',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  15: 'ENOTBLK',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  25: 'ENOTTY',
  26: 'ETXTBSY',
  27: 'EFBIG',
  28: 'ENOSPC',
  29: 'ESPIPE',
  30: 'EROFS',
  31: 'EMLINK',
  32: 'EPIPE',
  33: 'EDOM',
  34: 'ERANGE',
  35: 'EDEADLK',
  36: 'ENAMETOOLONG',
  37: 'ENOLCK',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  40: 'ELOOP',
  61: 'ENODATA',
  62: 'ETIME',
  74: 'EBADMSG',
  75: 'EOVERFLOW',
  84: 'EILSEQ',
  95: 'EOPNOTSUPP',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN',
  101: 'ENETUNREACH',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  107: 'ENOTCONN',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  112: 'EHOSTDOWN',
  113: 'EHOSTUNREACH',
  122: 'EDQUOT',
  125: 'ECANCELED',
};

/** Win32 error codes → the errno-style name Forge reports. */
export const WIN32_ERRORS: Readonly<Record<number, string>> = {
  2: 'ENOENT', // ERROR_FILE_NOT_FOUND
  3: 'ENOENT', // ERROR_PATH_NOT_FOUND
  4: 'EMFILE', // ERROR_TOO_MANY_OPEN_FILES
  5: 'EACCES', // ERROR_ACCESS_DENIED
  6: 'EBADF', // ERROR_INVALID_HANDLE
  8: 'ENOMEM', // ERROR_NOT_ENOUGH_MEMORY
  19: 'EROFS', // ERROR_WRITE_PROTECT
  32: 'EBUSY', // ERROR_SHARING_VIOLATION
  33: 'EBUSY', // ERROR_LOCK_VIOLATION
  38: 'EOF', // ERROR_HANDLE_EOF
  50: 'ENOTSUP', // ERROR_NOT_SUPPORTED
  80: 'EEXIST', // ERROR_FILE_EXISTS
  87: 'EINVAL', // ERROR_INVALID_PARAMETER
  112: 'ENOSPC', // ERROR_DISK_FULL
  120: 'ENOSYS', // ERROR_CALL_NOT_IMPLEMENTED
  123: 'EINVAL', // ERROR_INVALID_NAME
  145: 'ENOTEMPTY', // ERROR_DIR_NOT_EMPTY
  183: 'EEXIST', // ERROR_ALREADY_EXISTS
  206: 'ENAMETOOLONG', // ERROR_FILENAME_EXCED_RANGE
  258: 'ETIMEDOUT', // WAIT_TIMEOUT
  267: 'ENOTDIR', // ERROR_DIRECTORY
  995: 'ECANCELED', // ERROR_OPERATION_ABORTED
  996: 'EAGAIN', // ERROR_IO_INCOMPLETE
  997: 'EAGAIN', // ERROR_IO_PENDING
  1117: 'EIO', // ERROR_IO_DEVICE
  1224: 'EBUSY', // ERROR_USER_MAPPED_FILE
  1460: 'ETIMEDOUT', // ERROR_TIMEOUT
  1450: 'ENOMEM', // ERROR_NO_SYSTEM_RESOURCES
};
