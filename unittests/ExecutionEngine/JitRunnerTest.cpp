//===- JitRunnerTest.cpp - Tests of the JIT runner ------------------------===//
//
// Compiles small tensor-level modules with JitSession and checks results of
// calls with static and dynamic shapes, scalars, several results and
// results that alias arguments, plus the error messages for every kind of
// mismatched input.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/JitRunner.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::rill;

namespace {

constexpr llvm::StringLiteral kModule = R"mlir(
func.func @add(%a: tensor<?x3xf32> {rill.name = "a"}, %b: tensor<?x3xf32>)
    -> (tensor<?x3xf32> {rill.name = "sum"}) {
  %c0 = arith.constant 0 : index
  %rows = tensor.dim %a, %c0 : tensor<?x3xf32>
  %init = tensor.empty(%rows) : tensor<?x3xf32>
  %sum = linalg.add ins(%a, %b : tensor<?x3xf32>, tensor<?x3xf32>)
      outs(%init : tensor<?x3xf32>) -> tensor<?x3xf32>
  return %sum : tensor<?x3xf32>
}

func.func @several(%x: tensor<4xi64>, %scale: f64)
    -> (tensor<4xi1>, f64, tensor<4xi64>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0 : i64
  %init = tensor.empty() : tensor<4xi1>
  %positive = linalg.generic {
      indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
      iterator_types = ["parallel"]}
      ins(%x : tensor<4xi64>) outs(%init : tensor<4xi1>) {
  ^bb0(%in: i64, %unused: i1):
    %cmp = arith.cmpi sgt, %in, %zero : i64
    linalg.yield %cmp : i1
  } -> tensor<4xi1>
  %first = tensor.extract %x[%c0] : tensor<4xi64>
  %first_f = arith.sitofp %first : i64 to f64
  %scaled = arith.mulf %first_f, %scale : f64
  return %positive, %scaled, %x : tensor<4xi1>, f64, tensor<4xi64>
}

func.func @constant() -> tensor<2xf64> {
  %c = arith.constant dense<[0.5, 4.0]> : tensor<2xf64>
  return %c : tensor<2xf64>
}
)mlir";

std::unique_ptr<JitSession> compile(llvm::StringRef source) {
  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::createFromSource(source, "test.mlir");
  if (!session) {
    ADD_FAILURE() << llvm::toString(session.takeError());
    return nullptr;
  }
  return std::move(*session);
}

NumpyArray floats(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<float> values) {
  return NumpyArray::fromValues(NumpyDType::Float32, shape, values);
}

std::string callError(JitSession &session, llvm::StringRef function,
                      llvm::ArrayRef<NumpyArray> arguments) {
  llvm::Expected<std::vector<NamedArray>> results =
      session.call(function, arguments);
  if (results)
    return "";
  return llvm::toString(results.takeError());
}

TEST(JitRunner, ListsPublicFunctions) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  ASSERT_EQ(session->getFunctions().size(), 3u);
  const JitFunction *add = session->lookupFunction("add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->argumentNames, (std::vector<std::string>{"a", "arg1"}));
  EXPECT_EQ(add->resultNames, (std::vector<std::string>{"sum"}));
  EXPECT_EQ(add->arguments[0].typeName, "tensor<?x3xf32>");
  EXPECT_TRUE(add->unsupported.empty());
}

TEST(JitRunner, CallsWithDynamicShapes) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  for (int64_t rows : {0, 1, 5}) {
    SCOPED_TRACE(rows);
    std::vector<float> a(rows * 3), b(rows * 3);
    for (int64_t index = 0; index < rows * 3; ++index) {
      a[index] = static_cast<float>(index);
      b[index] = 0.5f * static_cast<float>(index);
    }
    llvm::Expected<std::vector<NamedArray>> results =
        session->call("add", {floats({rows, 3}, a), floats({rows, 3}, b)});
    ASSERT_TRUE(static_cast<bool>(results))
        << llvm::toString(results.takeError());
    ASSERT_EQ(results->size(), 1u);
    const NamedArray &sum = results->front();
    EXPECT_EQ(sum.name, "sum");
    EXPECT_EQ(sum.array.shape, (llvm::SmallVector<int64_t>{rows, 3}));
    for (int64_t index = 0; index < rows * 3; ++index)
      EXPECT_EQ(sum.array.getValues<float>()[index], 1.5f * index);
  }
}

TEST(JitRunner, ReturnsScalarsBoolsAndArguments) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  int64_t values[] = {3, -1, 0, 7};
  double scale = 0.25;
  NumpyArray x = NumpyArray::fromValues<int64_t>(NumpyDType::Int64, {4}, values);
  NumpyArray factor =
      NumpyArray::fromValues<double>(NumpyDType::Float64, {}, {scale});

  // Repeated calls also check that results are freed and not reused.
  for (int repeat = 0; repeat < 3; ++repeat) {
    llvm::Expected<std::vector<NamedArray>> results =
        session->call("several", {x, factor});
    ASSERT_TRUE(static_cast<bool>(results))
        << llvm::toString(results.takeError());
    ASSERT_EQ(results->size(), 3u);

    const NumpyArray &positive = (*results)[0].array;
    EXPECT_EQ(positive.dtype, NumpyDType::Bool);
    EXPECT_EQ(positive.bytes, (std::vector<uint8_t>{1, 0, 0, 1}));

    const NumpyArray &scaled = (*results)[1].array;
    EXPECT_EQ(scaled.dtype, NumpyDType::Float64);
    EXPECT_EQ(scaled.getRank(), 0);
    EXPECT_EQ(scaled.getAsDouble(0), 0.75);

    const NumpyArray &copy = (*results)[2].array;
    EXPECT_EQ(copy.getValues<int64_t>(), llvm::ArrayRef<int64_t>(values));
    EXPECT_EQ((*results)[2].name, "result2");
  }
}

TEST(JitRunner, ReturnsConstants) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  llvm::Expected<std::vector<NamedArray>> results =
      session->call("constant", {});
  ASSERT_TRUE(static_cast<bool>(results))
      << llvm::toString(results.takeError());
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ(results->front().array.getAsDouble(0), 0.5);
  EXPECT_EQ(results->front().array.getAsDouble(1), 4.0);
}

TEST(JitRunner, RejectsMismatchedArguments) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  NumpyArray good = floats({2, 3}, std::vector<float>(6, 1.0f));

  EXPECT_EQ(callError(*session, "add", {good}),
            "function @add expects 2 arguments, got 1");
  EXPECT_EQ(callError(*session, "nope", {}),
            "function @nope not found; the module's public functions are: "
            "@add, @several, @constant");

  NumpyArray integers(NumpyDType::Int32, {2, 3});
  EXPECT_EQ(callError(*session, "add", {good, integers}),
            "function @add, argument 1 ('arg1', tensor<?x3xf32>): expected "
            "float32 elements, got int32[2, 3]");

  NumpyArray wrongRank(NumpyDType::Float32, {6});
  EXPECT_EQ(callError(*session, "add", {wrongRank, good}),
            "function @add, argument 0 ('a', tensor<?x3xf32>): expected rank "
            "2 [?, 3], got float32[6]");

  NumpyArray wrongDim(NumpyDType::Float32, {2, 4});
  EXPECT_EQ(callError(*session, "add", {good, wrongDim}),
            "function @add, argument 1 ('arg1', tensor<?x3xf32>): expected "
            "dimension 1 to be 3, got float32[2, 4]");

  NumpyArray notScalar(NumpyDType::Float64, {1});
  NumpyArray x(NumpyDType::Int64, {4});
  EXPECT_EQ(callError(*session, "several", {x, notScalar}),
            "function @several, argument 1 ('arg1', f64): expected a 0-d "
            "array for the scalar, got float64[1]");
}

TEST(JitRunner, BindsNamedInputs) {
  std::unique_ptr<JitSession> session = compile(kModule);
  ASSERT_TRUE(session);
  NumpyArray ones = floats({1, 3}, {1.0f, 1.0f, 1.0f});
  NumpyArray twos = floats({1, 3}, {2.0f, 2.0f, 2.0f});

  // "a" by its rill.name, the second argument by position.
  llvm::Expected<std::vector<NamedArray>> results =
      session->callWithNamedInputs("add", {{"arg1", twos}, {"a", ones}});
  ASSERT_TRUE(static_cast<bool>(results))
      << llvm::toString(results.takeError());
  EXPECT_EQ(results->front().array.getValues<float>()[2], 3.0f);

  // The positional name also works for a named argument.
  results = session->callWithNamedInputs("add", {{"arg0", ones}, {"arg1", ones}});
  ASSERT_TRUE(static_cast<bool>(results))
      << llvm::toString(results.takeError());

  results = session->callWithNamedInputs("add", {{"a", ones}});
  ASSERT_FALSE(static_cast<bool>(results));
  EXPECT_EQ(llvm::toString(results.takeError()),
            "function @add: missing input 'arg1' for argument 1 "
            "(tensor<?x3xf32>); the inputs are: a");

  results = session->callWithNamedInputs(
      "add", {{"a", ones}, {"arg1", ones}, {"typo", ones}});
  ASSERT_FALSE(static_cast<bool>(results));
  EXPECT_EQ(llvm::toString(results.takeError()),
            "input 'typo' matches no argument of @add (arguments: a, arg1)");
}

TEST(JitRunner, ReportsParseErrorsWithLocation) {
  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::createFromSource("func.func @f( {", "broken.mlir");
  ASSERT_FALSE(static_cast<bool>(session));
  std::string message = llvm::toString(session.takeError());
  EXPECT_NE(message.find("cannot parse 'broken.mlir'"), std::string::npos);
  EXPECT_NE(message.find("broken.mlir:1:"), std::string::npos);
}

TEST(JitRunner, ReportsPipelineFailures) {
  // f8 attention passes the verifier but not the decomposition.
  constexpr llvm::StringLiteral source = R"mlir(
func.func @f(%q: tensor<1x1x1x2xf8E4M3FN>, %p: index) -> tensor<1x1x1x2xf8E4M3FN> {
  %r = rill.attention %q, %q, %q at %p, %p mask(#rill.causal)
      : tensor<1x1x1x2xf8E4M3FN>, tensor<1x1x1x2xf8E4M3FN>,
        tensor<1x1x1x2xf8E4M3FN> -> tensor<1x1x1x2xf8E4M3FN>
  return %r : tensor<1x1x1x2xf8E4M3FN>
}
)mlir";
  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::createFromSource(source, "f8.mlir");
  ASSERT_FALSE(static_cast<bool>(session));
  std::string message = llvm::toString(session.takeError());
  EXPECT_NE(message.find("the reference pipeline failed"), std::string::npos);
  EXPECT_NE(message.find("cannot be decomposed: expected f16, bf16, f32 or "
                         "f64 elements (got f8E4M3FN)"),
            std::string::npos);
}

TEST(JitRunner, CompilesCallerModule) {
  DialectRegistry registry;
  registerJitDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(kModule, &context);
  ASSERT_TRUE(module);

  llvm::Expected<std::unique_ptr<JitSession>> session =
      JitSession::create(*module);
  ASSERT_TRUE(static_cast<bool>(session))
      << llvm::toString(session.takeError());

  // The caller's module stays at the tensor level.
  EXPECT_TRUE(module->lookupSymbol("add"));
  EXPECT_FALSE((*module)->getAttr("llvm.data_layout"));
  llvm::Expected<std::vector<NamedArray>> results =
      (*session)->call("constant", {});
  ASSERT_TRUE(static_cast<bool>(results))
      << llvm::toString(results.takeError());
}

} // namespace
