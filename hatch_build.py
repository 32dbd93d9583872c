"""Ship galaxy.yml inside the installed collection for regular (non-editable) wheels only.

The wheel's `sources` mapping carries folders, not a single file; `force-include` in
pyproject would also apply to editable installs and create a site-packages copy of the
collection directory that shadows the working tree. A hook can tell the two apart.
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["galaxy.yml"] = "ansible_collections/opsbook/runbooks/galaxy.yml"
