/* A pydantic model from values already validated, in C: repo_sdk.types.assemble without its Python steps.
 *
 * bind(dict, fields_set, extra, private) -> None
 *     The data descriptors of BaseModel's own attributes (__dict__, __pydantic_fields_set__,
 *     __pydantic_extra__, __pydantic_private__), bound once at import (repo_sdk.types).
 * assemble(cls, values, given, private=None) -> cls instance
 *     What repo_sdk.types.assemble makes: cls.__new__(cls), then its __dict__ set to `values` (a dict),
 *     its fields set to set(given), no extra, and `private` (a dict or None) as its private attributes,
 *     each through its descriptor (the C-API's tp_descr_set): a third of the Python function's time.
 *
 * repo_sdk.types keeps the Python function, used where this module is not built or REPO_SDK_PURE_PYTHON is
 * set; tests/test_types_assemble.py checks both make equal models.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *setters[4]; /* __dict__, __pydantic_fields_set__, __pydantic_extra__, __pydantic_private__ */
static PyObject *no_args;

static PyObject *bind(PyObject *self, PyObject *args) {
    PyObject *found[4];
    if (!PyArg_ParseTuple(args, "OOOO:bind", &found[0], &found[1], &found[2], &found[3])) return NULL;
    for (int k = 0; k < 4; k++) {
        if (Py_TYPE(found[k])->tp_descr_set == NULL) {
            PyErr_Format(PyExc_TypeError, "bind: argument %d is %.50s, not a data descriptor", k + 1,
                         Py_TYPE(found[k])->tp_name);
            return NULL;
        }
    }
    for (int k = 0; k < 4; k++) {
        Py_INCREF(found[k]);
        Py_XSETREF(setters[k], found[k]);
    }
    Py_RETURN_NONE;
}

static inline int set(int k, PyObject *obj, PyObject *value) {
    return Py_TYPE(setters[k])->tp_descr_set(setters[k], obj, value);
}

static PyObject *assemble(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 3 || nargs > 4) {
        PyErr_Format(PyExc_TypeError, "assemble(cls, values, given, private=None) takes 3 or 4 arguments, not %zd",
                     nargs);
        return NULL;
    }
    if (setters[0] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "assemble: bind() was not called");
        return NULL;
    }
    PyObject *cls = args[0], *values = args[1], *given = args[2], *private = nargs > 3 ? args[3] : Py_None;
    if (!PyType_Check(cls) || !PyDict_Check(values)) {
        PyErr_Format(PyExc_TypeError, "assemble: cls must be a class and values a dict, not %.50s and %.50s",
                     Py_TYPE(cls)->tp_name, Py_TYPE(values)->tp_name);
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    PyObject *obj = type->tp_new(type, no_args, NULL); /* (what cls.__new__(cls) calls) */
    if (obj == NULL) return NULL;
    PyObject *fields = PySet_New(given);
    if (fields == NULL || set(0, obj, values) < 0 || set(1, obj, fields) < 0 || set(2, obj, Py_None) < 0 ||
        set(3, obj, private) < 0) {
        Py_XDECREF(fields);
        Py_DECREF(obj);
        return NULL;
    }
    Py_DECREF(fields);
    return obj;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS,
     "bind(dict, fields_set, extra, private) -> None: BaseModel's own attributes' descriptors."},
    {"assemble", (PyCFunction)(void (*)(void))assemble, METH_FASTCALL,
     "assemble(cls, values, given, private=None) -> a model of values already validated (repo_sdk.types.assemble)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "repo_sdk.fastmodel",
                                    "repo_sdk.types.assemble in C (see fastmodel.c).", -1, methods};

PyMODINIT_FUNC PyInit_fastmodel(void) {
    no_args = PyTuple_New(0);
    if (no_args == NULL) return NULL;
    return PyModule_Create(&module);
}
