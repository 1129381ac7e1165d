"""Where a value sits in a YAML file: the node of a pydantic error location, and its line.

The configuration loaders (strategies, training specs, provision parameters) validate the
constructed data with pydantic and name the file's line in every error; these two functions
map an error's location back to the node it came from.
"""

from __future__ import annotations

import yaml


def node_line(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def node_at(root: yaml.Node, loc: tuple[int | str, ...], *, key: bool = False) -> yaml.Node:
    """The node of a pydantic error location; the deepest one that exists when the location
    goes further (a missing key). With ``key`` the last part's key node, not its value: the
    line of an unknown key is the key's."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    node = key_node if key and i == len(loc) - 1 else value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node
