"""The investigator workbench (`fraudgraph serve`): a local web app over the workspace."""
