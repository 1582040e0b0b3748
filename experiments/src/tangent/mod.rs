//! The tangent space at θ₀ as the experiments use it: the Newton step as a kernel ridge solve,
//! linearised GD in closed form, and the memory plan that picks the kernel's form.

pub mod closed_form;
pub mod kernel_plan;
pub mod kernel_ridge;
pub mod linearized_sgd;
pub mod pointwise_newton;
pub mod pointwise_newton_cg;

pub use closed_form::ClosedFormGd;
pub use kernel_plan::{KernelChoice, KernelPlan};
pub use kernel_ridge::{kernel_predict, RidgeSolver};
