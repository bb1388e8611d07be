"""Validates Greengrass recipes the way the GDK CLI does (gdk/common/RecipeValidator.py).

Usage: validate_recipes.py SCHEMA RECIPE...
Prints one JSON line per recipe: {"file": ..., "valid": bool, "errors": [...]}. Exit code 0 when all are valid,
1 when some are not, 3 when jsonschema or yaml cannot be imported.
"""
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover - reported to the test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def keys_to_lower(obj):
    # RecipeValidator._keys_to_lower: every key of every mapping, recursively.
    if type(obj) is dict:
        return {key.lower(): keys_to_lower(item) for key, item in obj.items()}
    if type(obj) is list:
        return [keys_to_lower(i) for i in obj]
    return obj


def read(path):
    # CaseInsensitiveRecipeFile._read: json.loads for .json, yaml.safe_load for .yaml/.yml.
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        return json.loads(text)
    return yaml.safe_load(text)


def main():
    with open(sys.argv[1], "r") as f:
        schema = json.loads(f.read())
    jsonschema.Draft7Validator.check_schema(schema=schema)
    validator = jsonschema.Draft7Validator(schema)
    all_valid = True
    for path in sys.argv[2:]:
        try:
            recipe = keys_to_lower(read(path))
            errors = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
                      for e in validator.iter_errors(recipe)]
        except Exception as e:  # a recipe the GDK cannot even read is invalid too
            errors = ["%s: %s" % (type(e).__name__, e)]
        all_valid = all_valid and not errors
        print(json.dumps({"file": path, "valid": not errors, "errors": errors}))
    sys.exit(0 if all_valid else 1)


if __name__ == "__main__":
    main()
