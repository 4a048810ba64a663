# Copies every generated Markdown page under FROM into TO, keeping the
# relative folder, and only rewrites a page whose content changed.
file(GLOB_RECURSE pages RELATIVE ${FROM} ${FROM}/*.md)
foreach(page ${pages})
  configure_file(${FROM}/${page} ${TO}/${page} COPYONLY)
endforeach()
