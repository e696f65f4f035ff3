# uninstall.cmake — `cmake --build BUILD --target uninstall`: remove every file the last
# `cmake --install` of this build wrote, as listed in its install_manifest.txt (under
# $DESTDIR when set, as the install was). Directories are left: others' files may share
# them.
if(NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "nothing to uninstall: ${MANIFEST} does not exist (install first)")
endif()
file(STRINGS "${MANIFEST}" files)
set(removed 0)
foreach(f IN LISTS files)
  set(path "$ENV{DESTDIR}${f}")
  if(IS_SYMLINK "${path}" OR EXISTS "${path}")
    file(REMOVE "${path}")
    if(IS_SYMLINK "${path}" OR EXISTS "${path}")
      message(FATAL_ERROR "cannot remove ${path}")
    endif()
    math(EXPR removed "${removed} + 1")
  else()
    message(STATUS "already gone: ${path}")
  endif()
endforeach()
message(STATUS "uninstalled ${removed} files")
