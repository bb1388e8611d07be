"""Validates gdk-config.json files the way the GDK CLI does (gdk/common/configuration.py).

Usage: validate_gdk_config.py SCHEMA CONFIG...
GDK reads the file with json.loads and calls jsonschema.validate(data, schema) (the schema declares draft-07, so a
Draft7Validator checks it; keys are case-sensitive, nothing is lowercased) and reports only the error validate raises
(jsonschema's best_match). Prints one JSON line per file: {"file": ..., "valid": bool, "errors": [...]}, the error
being GDK's whole message. Exit code 0 when all are valid, 1 when some are not, 3 when jsonschema cannot be imported.
"""
import json
import sys

try:
    import jsonschema
except ImportError as e:  # pragma: no cover - reported to the test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main():
    with open(sys.argv[1], "r") as f:
        schema = json.loads(f.read())
    jsonschema.Draft7Validator.check_schema(schema=schema)
    all_valid = True
    for path in sys.argv[2:]:
        try:
            with open(path, "r") as f:
                data = json.loads(f.read())
            jsonschema.validate(data, schema)
            errors = []
        except jsonschema.exceptions.ValidationError as err:
            # error_messages.PROJECT_CONFIG_FILE_INVALID, with its trailing space.
            errors = ["Project configuration file 'gdk-config.json' is invalid. Please correct its format and try again."
                      " Error: {} ".format(err.message)]
        except Exception as e:  # a file the GDK cannot even read is invalid too
            errors = ["%s: %s" % (type(e).__name__, e)]
        all_valid = all_valid and not errors
        print(json.dumps({"file": path, "valid": not errors, "errors": errors}))
    sys.exit(0 if all_valid else 1)


if __name__ == "__main__":
    main()
