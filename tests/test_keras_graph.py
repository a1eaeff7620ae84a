"""course_lib.keras_graph finds parallel branches that meet in a Concatenate layer."""

from __future__ import annotations

import keras
from keras import layers

from course_lib import keras_graph


def stem():
    inputs = keras.Input(shape=(28, 28, 1))
    return inputs, layers.MaxPooling2D(2, name="stem")(layers.Conv2D(8, 3, name="stem_conv")(inputs))


def finish(inputs, merged):
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(merged)))


def names(branching):
    return sorted(sorted(layer.name for layer in branch) for branch in branching.branches)


def test_inception_branches_are_found_with_their_layers():
    inputs, x = stem()
    one = layers.Conv2D(4, 1, padding="same", name="one")(x)
    three = layers.Conv2D(4, 3, padding="same", name="three")(layers.Conv2D(4, 1, name="three_in")(x))
    five = layers.Conv2D(4, 5, padding="same", name="five")(layers.Conv2D(4, 1, name="five_in")(x))
    pool = layers.Conv2D(4, 1, name="pool_out")(layers.MaxPooling2D(3, 1, padding="same", name="pool")(x))
    model = finish(inputs, layers.Concatenate(name="cat")([one, three, five, pool]))
    [found] = keras_graph.parallel_branches(model)
    assert found.concat.name == "cat"
    assert found.source is x
    assert names(found) == [["five", "five_in"], ["one"], ["pool", "pool_out"], ["three", "three_in"]]
    assert {layer.name for layer in found.layers} == {"one", "three", "three_in", "five", "five_in",
                                                      "pool", "pool_out"}


def test_branches_in_sequence_are_not_parallel():
    inputs, x = stem()
    a = layers.Conv2D(4, 1, padding="same", name="a")(x)
    b = layers.Conv2D(4, 3, padding="same", name="b")(a)
    c = layers.Conv2D(4, 5, padding="same", name="c")(b)
    model = finish(inputs, layers.Concatenate()([a, b, c]))
    assert keras_graph.parallel_branches(model) == []       # a -> b -> c: one chain


def test_a_chain_beside_one_parallel_branch_counts_as_two():
    inputs, x = stem()
    a = layers.Conv2D(4, 1, padding="same", name="a")(x)
    b = layers.Conv2D(4, 3, padding="same", name="b")(a)
    p = layers.Conv2D(4, 1, padding="same", name="p")(x)
    [found] = keras_graph.parallel_branches(finish(inputs, layers.Concatenate()([a, b, p])))
    assert names(found) == [["a", "b"], ["p"]]


def test_sequential_models_have_no_branches():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    assert keras_graph.parallel_branches(model) == []


def test_nested_blocks_are_opened_up():
    block = keras.Sequential([layers.Conv2D(4, 3, name="inner_conv"), layers.MaxPooling2D(name="inner_pool")],
                             name="block")
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), block, layers.Flatten(name="flat"),
                              layers.Dense(10, name="out")])
    assert [layer.name for layer in keras_graph.flat_layers(model)] == ["inner_conv", "inner_pool", "flat", "out"]


def test_branches_built_as_nested_blocks_and_modules_as_sub_models_are_found():
    module_in = keras.Input(shape=(13, 13, 8))
    one = layers.Conv2D(4, 1, padding="same", name="one")(module_in)
    three = keras.Sequential([layers.Conv2D(4, 1, padding="same", name="three_in"),
                              layers.Conv2D(4, 3, padding="same", name="three")], name="three_block")(module_in)
    pool = layers.AveragePooling2D(3, 1, padding="same", name="pool")(module_in)
    module = keras.Model(module_in, layers.Concatenate(name="cat")([one, three, pool]), name="module")
    inputs, x = stem()
    [found] = keras_graph.parallel_branches(finish(inputs, module(x)))
    assert found.concat.name == "cat"
    assert {layer.name for layer in found.layers} == {"one", "three_in", "three", "pool"}
