# lit.cfg.py - lit configuration for Rill's FileCheck tests.
#
# Runs every .mlir file under test/ with rill-opt and the other Rill tools on
# PATH, plus FileCheck, not and count from the LLVM 22 tools directory.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "RILL"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.rill_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%rill_src_root", config.rill_src_root))
config.substitutions.append(("%rill_lib_dir", config.rill_lib_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.rill_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("rill-opt", unresolved="fatal"),
    ToolSubst("rill-translate", unresolved="ignore"),
    ToolSubst("rillc", unresolved="ignore"),
    ToolSubst("rill-exec", unresolved="ignore"),
    ToolSubst("mlir-runner", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
